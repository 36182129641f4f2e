/*
 * trust_cli.c: `hearth trust`: how to make clients trust the root
 * (DIR/ca/root.crt) on the usual systems and runtimes, with the real path
 * filled in, and the root exported as PEM (--pem FILE) and DER
 * (--der FILE). Only reads the CA directory.
 */
#include "server_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int
write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (f == NULL)
		return -1;
	if (fwrite(p, 1, len, f) != len)
		ret = -1;
	if (fclose(f) != 0)
		ret = -1;
	return ret;
}

static int
trust_export(const struct status_args *a, const uint8_t *der, size_t len)
{
	char *pem;

	if (a->der != NULL && write_file(a->der, der, len) != 0) {
		fprintf(stderr, "hearth: --der: cannot write %s\n", a->der);
		return -1;
	}
	if (a->pem == NULL)
		return 0;
	if ((pem = crypto_cert_der_to_pem(der, len)) == NULL ||
	    write_file(a->pem, pem, strlen(pem)) != 0) {
		fprintf(stderr, "hearth: --pem: cannot write %s\n", a->pem);
		free(pem);
		return -1;
	}
	free(pem);
	return 0;
}

static void
trust_print(const char *root)
{
	printf(
	    "The root certificate: %s\n\n"
	    "Debian, Ubuntu:\n"
	    "  sudo cp %s /usr/local/share/ca-certificates/hearth-root.crt\n"
	    "  sudo update-ca-certificates\n\n"
	    "RHEL, Fedora, CentOS:\n"
	    "  sudo cp %s /etc/pki/ca-trust/source/anchors/hearth-root.crt\n"
	    "  sudo update-ca-trust\n\n"
	    "macOS:\n"
	    "  sudo security add-trusted-cert -d -r trustRoot \\\n"
	    "    -k /Library/Keychains/System.keychain %s\n\n"
	    "Windows (an administrator's PowerShell):\n"
	    "  Import-Certificate -FilePath hearth-root.crt \\\n"
	    "    -CertStoreLocation Cert:\\LocalMachine\\Root\n"
	    "  (or: certutil -addstore -f Root hearth-root.crt)\n\n"
	    "Firefox (its own store; enterprise policy, policies.json):\n"
	    "  { \"policies\": { \"Certificates\": { \"ImportEnterpriseRoots\": true,\n"
	    "      \"Install\": [\"%s\"] } } }\n"
	    "  in /etc/firefox/policies/policies.json (Linux) or the\n"
	    "  distribution/ folder of the installation (macOS, Windows)\n\n"
	    "Java (keytool, into the runtime's cacerts):\n"
	    "  keytool -importcert -noprompt -alias hearth-root -file %s \\\n"
	    "    -cacerts -storepass changeit\n\n"
	    "Node.js:\n"
	    "  export NODE_EXTRA_CA_CERTS=%s\n\n"
	    "Python requests (it uses certifi, not the system store):\n"
	    "  export REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\n"
	    "  (after the system step above), or append the root to certifi's:\n"
	    "  cat %s >> \"$(python3 -m certifi)\"\n"
	    "  (undone by a certifi upgrade; prefer REQUESTS_CA_BUNDLE or\n"
	    "  SSL_CERT_FILE for the standard library)\n",
	    root, root, root, root, root, root, root, root);
}

int
cmd_trust(int argc, char **argv)
{
	struct status_args a;
	char ca[4096], root[PATH_MAX + 16], real[PATH_MAX];
	uint8_t *der = NULL;
	size_t len;
	int ret = 1;

	if (status_parse(argc, argv, 1, &a) != 0)
		return 2;
	if (path_join(ca, sizeof(ca), a.data, "ca") != 0)
		return 2;
	if (status_cert_load(ca, "root.crt", &der, &len) != 0) {
		fprintf(stderr, "hearth: cannot read %s/root.crt\n", ca);
		return 1;
	}
	if (realpath(ca, real) == NULL)
		snprintf(real, sizeof(real), "%s", ca);
	snprintf(root, sizeof(root), "%s/root.crt", real);
	trust_print(root);
	if (trust_export(&a, der, len) == 0) {
		if (a.pem != NULL)
			printf("\nwrote the root as PEM to %s\n", a.pem);
		if (a.der != NULL)
			printf("%swrote the root as DER to %s\n", a.pem != NULL ? "" : "\n",
			    a.der);
		ret = 0;
	}
	free(der);
	return ret;
}
