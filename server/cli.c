/*
 * cli.c: the command words (`init`, `serve`, `eab`, `certs`, `revoke`,
 * `backup`, `status`, `trust`, `ca`, `store`, `config`, `version`, `help`)
 * and their usage text. Parses the configuration and
 * hands it to the command (`eab` parses its own words in eab_cli.c, `certs`
 * and `revoke` in certs_cli.c, `backup` in backup_cli.c,
 * `ca` in ca_cli.c, `store` in store_cli.c, `config reference` in
 * reference.c).
 */
#include "server.h"
#include "server_internal.h"

#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth init --data DIR [options]   create the CA\n"
	    "       hearth serve --data DIR [options]  run the ACME server\n"
	    "       hearth eab add|list|revoke --data DIR ...\n"
	    "                                          external account keys\n"
	    "       hearth certs list|show --data DIR ...   issued certificates\n"
	    "       hearth revoke --data DIR SERIAL [--reason R]\n"
	    "       hearth status --data DIR          CA expiry, certificates; exit 1\n"
	    "                                          when something needs attention\n"
	    "       hearth trust --data DIR [--pem FILE] [--der FILE]\n"
	    "                                          how to trust the root; export it\n"
	    "       hearth backup --data DIR DEST | --verify DEST\n"
	    "       hearth ca rotate-intermediate --data DIR   new intermediate\n"
	    "       hearth store migrate --from DIR --to URI   LMDB into PostgreSQL\n"
	    "       hearth config reference [--format markdown|man] [--command C]\n"
	    "                                          the settings as documentation\n"
	    "       hearth version                     and the wolfSSL in use\n"
	    "       hearth help [init|serve|eab|certs|revoke|backup|ca|store]\n"
	    "  serve, eab, certs, revoke and status take --store LOCATION: a\n"
	    "  directory or a postgresql:// URI (default DIR/db).\n");
}

static int
help(int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "init") == 0) {
		printf("usage: hearth init --data DIR [options]\n");
		config_usage(stdout, CMD_INIT);
	} else if (argc > 0 && strcmp(argv[0], "serve") == 0) {
		printf("usage: hearth serve --data DIR [options]\n");
		config_usage(stdout, CMD_SERVE);
	} else if (argc > 0 && strcmp(argv[0], "eab") == 0) {
		eab_usage(stdout);
		config_usage(stdout, CMD_EAB);
	} else if (argc > 0 && (strcmp(argv[0], "certs") == 0 ||
	    strcmp(argv[0], "revoke") == 0)) {
		certs_usage(stdout);
	} else if (argc > 0 && strcmp(argv[0], "backup") == 0) {
		backup_usage(stdout);
	} else if (argc > 0 && strcmp(argv[0], "ca") == 0) {
		ca_usage(stdout);
	} else if (argc > 0 && strcmp(argv[0], "store") == 0) {
		store_usage_text(stdout);
	} else {
		usage(stdout);
	}
	return 0;
}

int
server_main(int argc, char **argv)
{
	struct config c;
	enum config_command cmd;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("hearth %s\n%s\n", HEARTH_VERSION, crypto_library_info());
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return help(argc - 2, argv + 2);
	if (strcmp(argv[1], "eab") == 0)
		return cmd_eab(argc - 2, argv + 2);
	if (strcmp(argv[1], "certs") == 0 || strcmp(argv[1], "revoke") == 0)
		return argv[1][0] == 'c' ? cmd_certs(argc - 2, argv + 2) :
		    cmd_revoke(argc - 2, argv + 2);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc - 2, argv + 2);
	if (strcmp(argv[1], "ca") == 0)
		return cmd_ca(argc - 2, argv + 2);
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 2, argv + 2);
	if (strcmp(argv[1], "store") == 0)
		return cmd_store(argc - 2, argv + 2);
	if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "trust") == 0) {
		if (crypto_init() != CRYPTO_OK)
			return 1;
		ret = argv[1][0] == 's' ? cmd_status(argc - 2, argv + 2) :
		    cmd_trust(argc - 2, argv + 2);
		crypto_cleanup();
		return ret;
	}
	if (strcmp(argv[1], "init") == 0) {
		cmd = CMD_INIT;
	} else if (strcmp(argv[1], "serve") == 0) {
		cmd = CMD_SERVE;
	} else {
		fprintf(stderr, "hearth: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return 2;
	}
	config_defaults(&c);
	if (config_parse(&c, cmd, argc - 2, argv + 2) != 0) {
		config_free(&c);
		return 2;
	}
	if (crypto_init() != CRYPTO_OK) {
		fprintf(stderr, "hearth: cannot initialise the crypto library\n");
		config_free(&c);
		return 1;
	}
	ret = cmd == CMD_INIT ? (cmd_init(&c) == 0 ? 0 : 1) : cmd_serve(&c);
	crypto_cleanup();
	config_free(&c);
	return ret;
}
