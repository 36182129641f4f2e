/*
 * pgcase.h: what the store tests need to run a case on PostgreSQL. When
 * HEARTH_TEST_PG_URI is set (tests/e2e/pg.sh run starts a server of the
 * test's own and sets it), a case's "directory" is that database, emptied
 * first: every table of the public schema dropped, as if new.
 */
#ifndef HEARTH_TEST_PGCASE_H
#define HEARTH_TEST_PGCASE_H

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

/* The database URI, or NULL when the tests run on LMDB. */
static const char *
pgcase_uri(void)
{
	const char *u = getenv("HEARTH_TEST_PG_URI");

	return u != NULL && *u != '\0' ? u : NULL;
}

/* Runs sql on a connection of its own; 0 or -1 after printing why. */
static int
pgcase_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pgcase_uri());
	PGresult *r = NULL;
	int ok;

	ok = PQstatus(c) == CONNECTION_OK && (r = PQexec(c, sql)) != NULL &&
	    (PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK);
	if (!ok)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* Empties the database and writes its URI into out. 0 or -1. */
static int
pgcase_reset(char *out, size_t len)
{
	if (pgcase_exec("SET client_min_messages = warning; DROP SCHEMA "
	    "public CASCADE; CREATE SCHEMA public") != 0)
		return -1;
	return snprintf(out, len, "%s", pgcase_uri()) < (int)len ? 0 : -1;
}

#endif
