/*
 * settings.c: what a configuration reload may change while requests run
 * (docs/operations.md): the name policy, the certificate profiles, the rate
 * limits and caps, and whether new accounts need an external account
 * binding. They live in one struct acme_settings that acme_reconfigure()
 * replaces whole, so a request sees one configuration or the next, never a
 * mix of fields.
 *
 * Readers take no lock. A request enters (acme_enter) by counting itself
 * in the slot of the current epoch's parity, and reads a->settings while
 * counted; acme_reconfigure() swaps the pointer, moves the epoch on and
 * keeps the old settings as retired until the old epoch's slot is empty.
 * A request that read the epoch before the move and counted itself after
 * it sees the epoch changed and counts itself again in the new slot, so a
 * slot that is seen empty after the move stays free of the old settings.
 * The retired settings are freed by the next reconfiguration (refused with
 * ACME_ERR_BUSY while requests of the epoch before are still running) or
 * by acme_free().
 *
 * The signer is swapped the same way for a rotated intermediate
 * (acme_signer_set), with no grace to wait for: a finalization reads the
 * pointer once, and the caller keeps every signer it handed over open
 * until acme_free().
 */
#include "acme_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

void
acme_settings_free(struct acme_settings *s)
{
	if (s == NULL)
		return;
	crypto_policy_free(s->policy);
	free(s);
}

struct acme_settings *
acme_settings_new(const struct acme_config *cfg, int *err)
{
	struct acme_settings *s;

	*err = ACME_ERR_INVALID;
	if (cfg->n_profiles > CRYPTO_MAX_PROFILES)
		return NULL;
	*err = ACME_ERR_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (cfg->policy != NULL &&
	    (s->policy = crypto_policy_dup(cfg->policy)) == NULL) {
		free(s);
		return NULL;
	}
	if (cfg->n_profiles == 0)
		s->n_profiles = crypto_profile_defaults(s->profiles);
	else {
		memcpy(s->profiles, cfg->profiles,
		    cfg->n_profiles * sizeof(*s->profiles));
		s->n_profiles = cfg->n_profiles;
	}
	s->limits = cfg->limits;
	s->eab_required = cfg->eab_required != 0;
	*err = ACME_OK;
	return s;
}

unsigned
acme_enter(struct acme *a)
{
	unsigned e;

	for (;;) {
		e = atomic_load(&a->epoch);
		atomic_fetch_add(&a->active[e & 1], 1);
		if (atomic_load(&a->epoch) == e)
			return e & 1;
		atomic_fetch_sub(&a->active[e & 1], 1);
	}
}

void
acme_leave(struct acme *a, unsigned slot)
{
	atomic_fetch_sub(&a->active[slot & 1], 1);
}

const struct acme_settings *
acme_settings(const struct acme *a)
{
	return atomic_load_explicit(&((struct acme *)a)->settings,
	    memory_order_acquire);
}

int
acme_reconfigure(struct acme *a, const struct acme_config *cfg)
{
	struct acme_settings *s = NULL, *old;
	unsigned e;
	int ret;

	if (a == NULL || cfg == NULL)
		return ACME_ERR_INVALID;
	pthread_mutex_lock(&a->reload_lock);
	ret = ACME_ERR_BUSY;
	if (a->retired != NULL) {
		if (atomic_load(&a->active[a->retired_slot]) != 0)
			goto out;
		acme_settings_free(a->retired);
		a->retired = NULL;
	}
	if ((s = acme_settings_new(cfg, &ret)) == NULL)
		goto out;
	if ((ret = acme_limiter_set(&a->limits, &s->limits)) != ACME_OK) {
		acme_settings_free(s);
		goto out;
	}
	old = atomic_exchange(&a->settings, s);
	e = atomic_fetch_add(&a->epoch, 1);
	a->retired = old;
	a->retired_slot = e & 1;
out:
	pthread_mutex_unlock(&a->reload_lock);
	return ret;
}

void
acme_signer_set(struct acme *a, struct crypto_signer *signer)
{
	if (a != NULL && signer != NULL)
		atomic_store_explicit(&a->signer, signer, memory_order_release);
}
