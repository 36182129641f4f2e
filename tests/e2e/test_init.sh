#!/usr/bin/env bash
# test_init.sh: `hearth init` from the command line: every key type, a CA
# name, a given or generated root passphrase, an encrypted intermediate
# (which serve then needs), importing a root made by the openssl commands
# people already use, and clear refusals (among them passphrase and key
# files that group or others may read).
. "$(dirname "$0")/lib.sh"

subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
mode() { stat -c %a "$1"; }

# generated passphrase, default key type
D1="$WORK/d1"
OUT=$("$HEARTH_BIN" init --data "$D1" 2>&1)
check "init succeeds" test -s "$D1/ca/root.crt" -a -s "$D1/ca/intermediate.crt"
check "init names the root to distribute" grep -q "distribute $D1/ca/root.crt" <<<"$OUT"
check "init warns to move the generated passphrase offline" grep -q "root.pass" <<<"$OUT"
check "init says serve issues for internal names only, and how to allow more" \
	grep -q -- "internal names by default: DNS: internal, home.arpa.*--allow-dns SUFFIX" \
	<<<"$(tr -d "\n" <<<"$OUT")"
check "root key is 0600" test "$(mode "$D1/ca/root.key")" = 600
check "intermediate key is 0600" test "$(mode "$D1/ca/intermediate.key")" = 600
check "root.pass is 0600" test "$(mode "$D1/ca/root.pass")" = 600
check "root key is encrypted PKCS#8" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$D1/ca/root.key"
check_not "root key has no plain PEM" grep -q "BEGIN PRIVATE KEY" "$D1/ca/root.key"
check "root key opens with the generated passphrase" \
	openssl pkey -in "$D1/ca/root.key" -passin "file:$D1/ca/root.pass" -noout
check_not "root key does not open with a wrong passphrase" \
	openssl pkey -in "$D1/ca/root.key" -passin pass:wrong -noout
check "default key type is P-256" bash -c "openssl x509 -in '$D1/ca/root.crt' -noout -text | grep -q 'prime256v1'"
check "intermediate verifies under the root" bash -c \
	"openssl verify -CAfile '$D1/ca/root.crt' '$D1/ca/intermediate.crt' | grep -q ': OK'"
check "root is a CA for 10 years" bash -c "openssl x509 -in '$D1/ca/root.crt' -noout -text | grep -q 'CA:TRUE'"
check "intermediate cannot sign CAs (pathlen 0)" bash -c \
	"openssl x509 -in '$D1/ca/intermediate.crt' -noout -text | grep -q 'pathlen:0'"
set +e
OUT=$("$HEARTH_BIN" init --data "$D1" 2>&1); RC=$?
set -e
check "a second init is refused" test "$RC" -ne 0
check "and says a CA exists" grep -q "already holds a CA" <<<"$OUT"

# each key type, a name, and a given passphrase
printf 'correct horse battery staple\n' >"$WORK/pass"
chmod 644 "$WORK/pass"
set +e
OUT=$("$HEARTH_BIN" init --data "$WORK/d-mode" --passphrase-file "$WORK/pass" 2>&1); RC=$?
set -e
check "a passphrase file others may read is refused" test "$RC" -ne 0
check "and the refusal names the file, its mode and the fix" grep -qF \
	"$WORK/pass: passphrase file has mode 0644, which lets group or others read it; refusing it (chmod 600 $WORK/pass)" <<<"$OUT"
check "and leaves no CA behind" test ! -e "$WORK/d-mode/ca/root.crt"
chmod 600 "$WORK/pass"
for kt in ec-p384 rsa-4096; do
	D="$WORK/$kt"
	check "init --key-type $kt" "$HEARTH_BIN" init --data "$D" --key-type "$kt" \
		--ca-name "Corp $kt" --passphrase-file "$WORK/pass"
	check "$kt: no generated passphrase file" test ! -e "$D/ca/root.pass"
	check "$kt: root subject carries the name" grep -q "Corp $kt" <<<"$(subject "$D/ca/root.crt")"
	check "$kt: root key opens with the given passphrase" \
		openssl pkey -in "$D/ca/root.key" -passin "file:$WORK/pass" -noout
done
check "ec-p384 root is P-384" bash -c "openssl x509 -in '$WORK/ec-p384/ca/root.crt' -noout -text | grep -q secp384r1"
check "rsa-4096 root is RSA 4096" bash -c "openssl x509 -in '$WORK/rsa-4096/ca/root.crt' -noout -text | grep -q '4096 bit'"

# an encrypted intermediate: serve needs its passphrase
D2="$WORK/d2"
printf 'intermediate secret\n' >"$WORK/ipass"
chmod 600 "$WORK/ipass"
check "init with an intermediate passphrase" "$HEARTH_BIN" init --data "$D2" \
	--intermediate-passphrase-file "$WORK/ipass"
check "intermediate key is encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$D2/ca/intermediate.key"
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D2" --listen "127.0.0.1:$(free_port)" 2>&1); RC=$?
set -e
check "serve without the intermediate passphrase fails" test "$RC" -eq 1
check "and says why" grep -q "passphrase" <<<"$OUT"
chmod 640 "$D2/ca/intermediate.key"
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D2" --listen "127.0.0.1:$(free_port)" \
	--intermediate-passphrase-file "$WORK/ipass" 2>&1); RC=$?
set -e
check "serve refuses an intermediate key group may read" test "$RC" -eq 1
check "and names the file, its mode and the fix" grep -qF \
	"$D2/ca/intermediate.key: mode 0640 lets group or others read it; refusing to start (chmod 600 $D2/ca/intermediate.key)" <<<"$OUT"
chmod 600 "$D2/ca/intermediate.key"
PORT=$(free_port)
start_server "$D2" "$PORT" --intermediate-passphrase-file "$WORK/ipass"
check "serve with the intermediate passphrase works" \
	curl -sS -f -o /dev/null --cacert "$D2/ca/root.crt" "https://localhost:$PORT/directory"
stop_server

# import a root made exactly as people make one with openssl
I="$WORK/import"
mkdir -p "$I"
(cd "$I" &&
	openssl genrsa -aes256 -passout pass:opensesame -out ca.key 4096 2>/dev/null &&
	openssl req -x509 -new -key ca.key -passin pass:opensesame -sha256 -days 3650 \
		-out ca.crt -subj "/CN=MyInternalCA")
printf 'opensesame\n' >"$I/ca.pass"
chmod 600 "$I/ca.pass"
check "openssl wrote the encrypted key 0600" test "$(mode "$I/ca.key")" = 600
D3="$WORK/d3"
check "init --import-root with the openssl-made root" "$HEARTH_BIN" init --data "$D3" \
	--import-root "$I/ca.crt" "$I/ca.key" --passphrase-file "$I/ca.pass"
check "root.crt is the imported root" cmp -s <(openssl x509 -in "$I/ca.crt" -outform DER) \
	<(openssl x509 -in "$D3/ca/root.crt" -outform DER)
check "intermediate is issued by MyInternalCA" bash -c \
	"openssl x509 -in '$D3/ca/intermediate.crt' -noout -issuer | grep -q MyInternalCA"
check "intermediate verifies under the imported root" bash -c \
	"openssl verify -CAfile '$I/ca.crt' '$D3/ca/intermediate.crt' | grep -q ': OK'"
check "stored root key is encrypted with the given passphrase" \
	openssl pkey -in "$D3/ca/root.key" -passin "file:$I/ca.pass" -noout
PORT=$(free_port)
start_server "$D3" "$PORT"
check "serve under the imported root, trusted by it alone" \
	curl -sS -f -o /dev/null --cacert "$I/ca.crt" "https://localhost:$PORT/directory"
stop_server

printf 'wrong\n' >"$WORK/wrong"
chmod 600 "$WORK/wrong"
set +e
OUT=$("$HEARTH_BIN" init --data "$WORK/d4" --import-root "$I/ca.crt" "$I/ca.key" \
	--passphrase-file "$WORK/wrong" 2>&1); RC=$?
set -e
check "import with a wrong passphrase is refused" test "$RC" -ne 0
check "and says so" grep -qi "passphrase" <<<"$OUT"
check "and leaves no CA behind" test ! -e "$WORK/d4/ca/root.crt"
set +e
OUT=$("$HEARTH_BIN" init --data "$WORK/d5" --import-root "$I/ca.crt" "$D1/ca/intermediate.key" 2>&1); RC=$?
set -e
check "import with a key of another certificate is refused" test "$RC" -ne 0
check "and says they do not match" grep -qi "match" <<<"$OUT"
set +e
OUT=$("$HEARTH_BIN" init --data "$WORK/d6" --import-root "$I/nonexistent.crt" "$I/ca.key" 2>&1); RC=$?
set -e
check "import of a missing file is refused" test "$RC" -ne 0

# bad flags and configuration files name what is wrong
set +e
OUT=$("$HEARTH_BIN" init --data "$WORK/d7" --key-type dsa-1024 2>&1); RC=$?
set -e
check "unknown key type refused with exit 2" test "$RC" -eq 2
check "and names the value" grep -q "dsa-1024" <<<"$OUT"
printf 'data = %s\nkey-typ = ec-p256\n' "$WORK/d8" >"$WORK/bad.conf"
set +e
OUT=$("$HEARTH_BIN" init --config "$WORK/bad.conf" 2>&1); RC=$?
set -e
check "unknown configuration key refused" test "$RC" -eq 2
check "and names file, line and key" grep -q "bad.conf:2: unknown key \"key-typ\"" <<<"$OUT"
printf 'data = %s\nca-name = From A File\n' "$WORK/d9" >"$WORK/good.conf"
check "init from a configuration file" "$HEARTH_BIN" init --config "$WORK/good.conf"
check "the file's settings were used" grep -q "From A File" <<<"$(subject "$WORK/d9/ca/root.crt")"

done_checks
