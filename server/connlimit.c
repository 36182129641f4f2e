/*
 * connlimit.c: counts open client connections in all and per source, so
 * one client cannot hold every descriptor of the server. Owns a fixed
 * table of sources with a count each (open addressing, linear probing,
 * deletion by backward shift); an entry exists only while its source has
 * a connection open, so the table cannot be filled by sources that have
 * gone. IPv6 sources count by /64, which one host usually holds whole.
 */
#include "connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct connlimit_entry {
	struct connlimit_key key;
	unsigned long n;             /* 0: free */
};

struct connlimit {
	pthread_mutex_t lock;
	long total, per_source;
	unsigned long open, refused;
	unsigned long sources;       /* table entries in use */
	struct connlimit_entry *tab; /* 2 * CONNLIMIT_SOURCES slots */
};

#define TABLE_SLOTS (2 * CONNLIMIT_SOURCES)

struct connlimit *
connlimit_new(long total, long per_source)
{
	struct connlimit *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	if ((cl->tab = calloc(TABLE_SLOTS, sizeof(*cl->tab))) == NULL) {
		free(cl);
		return NULL;
	}
	cl->total = total;
	cl->per_source = per_source;
	pthread_mutex_init(&cl->lock, NULL);
	return cl;
}

void
connlimit_free(struct connlimit *cl)
{
	if (cl == NULL)
		return;
	pthread_mutex_destroy(&cl->lock);
	free(cl->tab);
	free(cl);
}

/* The key of an address; -1 for a family that is not IP. */
static int
key_of(const struct sockaddr *sa, socklen_t salen, struct connlimit_key *k)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(*s4)) {
		k->addr[10] = k->addr[11] = 0xff;
		memcpy(k->addr + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6 || salen < (socklen_t)sizeof(*s6))
		return -1;
	memcpy(k->addr, &s6->sin6_addr, 16);
	if (memcmp(k->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0)
		memset(k->addr + 8, 0, 8);
	return 0;
}

static size_t
key_hash(const struct connlimit_key *k)
{
	size_t h = 14695981039346656037ULL & (size_t)-1, i;

	for (i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * (size_t)1099511628211ULL;
	return h % TABLE_SLOTS;
}

/* The slot of k, or the free slot it would take. Called locked. */
static size_t
slot_of(const struct connlimit *cl, const struct connlimit_key *k)
{
	size_t i = key_hash(k);

	while (cl->tab[i].n != 0 && memcmp(&cl->tab[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) % TABLE_SLOTS;
	return i;
}

/* Frees slot i, moving up entries that probed past it. Called locked. */
static void
slot_remove(struct connlimit *cl, size_t i)
{
	size_t j = i, home;

	cl->tab[i].n = 0;
	for (;;) {
		j = (j + 1) % TABLE_SLOTS;
		if (cl->tab[j].n == 0)
			return;
		home = key_hash(&cl->tab[j].key);
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			cl->tab[i] = cl->tab[j];
			cl->tab[j].n = 0;
			i = j;
		}
	}
}

enum connlimit_verdict
connlimit_enter(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t salen, struct connlimit_key *key)
{
	enum connlimit_verdict v = CONNLIMIT_OK;
	size_t i;

	if (key_of(sa, salen, key) != 0)
		memset(key, 0, sizeof(*key));   /* counted as one unknown source */
	pthread_mutex_lock(&cl->lock);
	i = slot_of(cl, key);
	if (cl->total > 0 && cl->open >= (unsigned long)cl->total)
		v = CONNLIMIT_TOTAL;
	else if (cl->per_source > 0 && cl->tab[i].n >= (unsigned long)cl->per_source)
		v = CONNLIMIT_SOURCE;
	else if (cl->tab[i].n == 0 && cl->sources >= CONNLIMIT_SOURCES)
		v = CONNLIMIT_TABLE;
	if (v == CONNLIMIT_OK) {
		if (cl->tab[i].n++ == 0) {
			cl->tab[i].key = *key;
			cl->sources++;
		}
		cl->open++;
	} else {
		cl->refused++;
	}
	pthread_mutex_unlock(&cl->lock);
	return v;
}

void
connlimit_leave(struct connlimit *cl, const struct connlimit_key *key)
{
	size_t i;

	pthread_mutex_lock(&cl->lock);
	i = slot_of(cl, key);
	if (cl->tab[i].n > 0) {
		if (--cl->tab[i].n == 0) {
			slot_remove(cl, i);
			cl->sources--;
		}
		cl->open--;
	}
	pthread_mutex_unlock(&cl->lock);
}

void
connlimit_key_text(const struct connlimit_key *key, char *out, size_t outsz)
{
	char buf[INET6_ADDRSTRLEN];

	if (memcmp(key->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		inet_ntop(AF_INET, key->addr + 12, buf, sizeof(buf));
		snprintf(out, outsz, "%s", buf);
	} else {
		inet_ntop(AF_INET6, key->addr, buf, sizeof(buf));
		snprintf(out, outsz, "%s/64", buf);
	}
}

unsigned long
connlimit_refused(struct connlimit *cl)
{
	unsigned long n;

	pthread_mutex_lock(&cl->lock);
	n = cl->refused;
	pthread_mutex_unlock(&cl->lock);
	return n;
}
