/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_keys.c - the keys that sign the route cookie (GWELBCookieKey,
 * README 4.8): read at start-up, each turned into a keyed HMAC-SHA256 of
 * OpenSSL's libcrypto that sticky/ is handed as its gwe_mac_fn.
 */
#include "mod_gwe_lb.h"

#include "apr_atomic.h"
#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "http_log.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdlib.h>
#include <string.h>

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

/* What a key file may hold: at least 32 bytes (README 4.8), and no more
 * than a key could sensibly be, so a wrong path (a log, a certificate
 * bundle) is not read whole. */
#define GWELB_KEY_MIN 32
#define GWELB_KEY_MAX 4096

/* The label whose MAC under a key gives the key's id: the id names the
 * key, not its place in the list, so rotation can reorder keys. */
static const char gwelb_key_id_label[] = "mod_gwe_lb key id";

/*
 * Each thread keeps its own working copy of a key's keyed context, made on
 * its first MAC under that key and re-armed with EVP_MAC_init(ctx, NULL, 0,
 * NULL) for every next one: copying the keyed context per MAC (allocations
 * included) cost about as much as the hash itself.  A thread remembers the
 * keys of up to GWELB_THREAD_KEYSETS balancers; more only cost a copy.
 * Keys are told apart by their serial, never by address, so keys loaded by
 * a later generation at the same address are not mistaken for old ones.
 */
#define GWELB_THREAD_KEYSETS 4

/* a thread's contexts: key i at i, key i derived for the balancer's scope
 * at GWE_SIGNED_KEYS_MAX + i */
#define GWELB_THREAD_MACS (2 * GWE_SIGNED_KEYS_MAX)

typedef struct gwelb_thread_keys {
    struct {
        unsigned long serial; /* 0: empty */
        EVP_MAC_CTX *mac[GWELB_THREAD_MACS];
    } set[GWELB_THREAD_KEYSETS];
    unsigned next; /* the set replaced next */
} gwelb_thread_keys;

static apr_threadkey_t *gwelb_thread_key; /* child processes only */
static unsigned long gwelb_keys_serial;   /* parent: counts loads */

static void gwelb_thread_keys_free(void *data)
{
    gwelb_thread_keys *t = data;
    int i, j;

    for (i = 0; i < GWELB_THREAD_KEYSETS; i++)
        for (j = 0; j < GWELB_THREAD_MACS; j++)
            EVP_MAC_CTX_free(t->set[i].mac[j]);
    free(t);
}

static apr_status_t gwelb_thread_key_delete(void *data)
{
    gwelb_thread_key = NULL;
    return APR_SUCCESS;
}

/* child_init: the per-thread contexts; without them every MAC copies. */
void gwelb_keys_child_init(apr_pool_t *pchild)
{
    if (apr_threadkey_private_create(&gwelb_thread_key, gwelb_thread_keys_free,
                                     pchild) != APR_SUCCESS) {
        gwelb_thread_key = NULL;
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, gwelb_thread_key_delete,
                              apr_pool_cleanup_null);
}

/* This thread's working context number i (GWELB_THREAD_MACS) of k, a
 * copy of tmpl, or NULL (then copy). */
static EVP_MAC_CTX *gwelb_thread_mac(const gwelb_keys *k, int i,
                                     EVP_MAC_CTX *tmpl)
{
    gwelb_thread_keys *t = NULL;
    unsigned s;
    int j;

    if (!gwelb_thread_key || apr_threadkey_private_get(
                                 (void **)&t, gwelb_thread_key) != APR_SUCCESS)
        return NULL;
    if (!t) {
        if (!(t = calloc(1, sizeof(*t))) ||
            apr_threadkey_private_set(t, gwelb_thread_key) != APR_SUCCESS) {
            free(t);
            return NULL;
        }
    }
    for (s = 0; s < GWELB_THREAD_KEYSETS; s++)
        if (t->set[s].serial == k->serial)
            break;
    if (s == GWELB_THREAD_KEYSETS) {
        s = t->next++ % GWELB_THREAD_KEYSETS;
        for (j = 0; j < GWELB_THREAD_MACS; j++) {
            EVP_MAC_CTX_free(t->set[s].mac[j]);
            t->set[s].mac[j] = NULL;
        }
        t->set[s].serial = k->serial;
    }
    if (!t->set[s].mac[i])
        t->set[s].mac[i] = EVP_MAC_CTX_dup(tmpl);
    return t->set[s].mac[i];
}

static int gwelb_mac_parts(EVP_MAC_CTX *c, const gwe_slice *parts,
                           size_t nparts, unsigned char out[32]);

/* 1 when the scope's bytes are those k's scoped keys were derived for. */
static int gwelb_scope_is(const gwelb_keys *k, const gwe_slice *scope,
                          size_t nscope)
{
    size_t i, at = 0;

    if (!k->scope)
        return 0;
    for (i = 0; i < nscope; at += scope[i].len, i++)
        if (scope[i].len > k->scope_len - at ||
            (scope[i].len &&
             memcmp(k->scope + at, scope[i].ptr, scope[i].len)))
            return 0;
    return at == k->scope_len;
}

/* An HMAC-SHA256 context keyed with key[0..len), or NULL. */
static EVP_MAC_CTX *gwelb_keyed(EVP_MAC *hmac, const unsigned char *key,
                                size_t len)
{
    char digest_name[] = "SHA256";
    OSSL_PARAM params[2];
    EVP_MAC_CTX *c = hmac ? EVP_MAC_CTX_new(hmac) : NULL;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (c && !EVP_MAC_init(c, key, len, params)) {
        EVP_MAC_CTX_free(c);
        c = NULL;
    }
    return c;
}

/* The context of key i derived for a scope: k's own scope at start-up
 * (gwelb_scope_keys), another one for a single MAC. */
static EVP_MAC_CTX *gwelb_derive(const gwelb_keys *k, int i,
                                 const gwe_slice *scope, size_t nscope)
{
    unsigned char d[32];
    EVP_MAC_CTX *c = NULL;

    if (!gwelb_mac((void *)k, i, NULL, 0, scope, nscope, d))
        c = gwelb_keyed(k->hmac, d, sizeof d);
    OPENSSL_cleanse(d, sizeof d);
    return c;
}

/*
 * HMAC-SHA256 under key key_index, or under that key derived for the
 * scope (sticky.h's gwe_mac_fn), over the parts.  The balancer's own scope
 * was derived at start-up; each thread re-arms its copy of the keyed
 * context per MAC.
 */
int gwelb_mac(void *ctx, int key_index, const gwe_slice *scope, size_t nscope,
              const gwe_slice *parts, size_t nparts, unsigned char out[32])
{
    const gwelb_keys *k = ctx;
    EVP_MAC_CTX *c, *own = NULL, *tmpl;
    int slot = key_index, ok;

    if (key_index < 0 || key_index >= k->n)
        return -1;
    tmpl = k->mac[key_index];
    if (nscope) {
        if (!gwelb_scope_is(k, scope, nscope) || !k->scoped[key_index]) {
            if (!(own = gwelb_derive(k, key_index, scope, nscope)))
                return -1;
            ok = gwelb_mac_parts(own, parts, nparts, out);
            EVP_MAC_CTX_free(own);
            return ok;
        }
        tmpl = k->scoped[key_index];
        slot += GWE_SIGNED_KEYS_MAX;
    }
    if ((c = gwelb_thread_mac(k, slot, tmpl)) != NULL) {
        if (!EVP_MAC_init(c, NULL, 0, NULL)) /* same key, fresh state */
            return -1;
    } else if (!(c = own = EVP_MAC_CTX_dup(tmpl)))
        return -1;
    ok = gwelb_mac_parts(c, parts, nparts, out);
    EVP_MAC_CTX_free(own);
    return ok;
}

/* The MAC of the parts on an armed context, gathered into one update when
 * they fit (every value the module signs does). */
static int gwelb_mac_parts(EVP_MAC_CTX *c, const gwe_slice *parts,
                           size_t nparts, unsigned char out[32])
{
    unsigned char buf[2048];
    size_t i, outl = 0, len = 0;
    int ok = 1;

    for (i = 0; i < nparts && len <= sizeof buf; i++)
        len += parts[i].len;
    if (nparts > 1 && len <= sizeof buf) {
        for (len = 0, i = 0; i < nparts; len += parts[i].len, i++)
            if (parts[i].len)
                memcpy(buf + len, parts[i].ptr, parts[i].len);
        ok = EVP_MAC_update(c, buf, len);
    } else {
        for (i = 0; i < nparts && ok; i++)
            if (parts[i].len)
                ok = EVP_MAC_update(c, (const unsigned char *)parts[i].ptr,
                                    parts[i].len);
    }
    ok = ok && EVP_MAC_final(c, out, &outl, 32) && outl == 32;
    return ok ? 0 : -1;
}

/*
 * A new visitor's value depends only on the member, the second and the
 * signing key: every new visitor sent to one member within one second gets
 * the same bytes.  So, like httpd's own Date header, the value is made once
 * per member and second and copied for the others: a burst of new
 * visitors costs one HMAC per member and second, not one each (README
 * 4.8).  The slots are shared by the process's threads; a thread that
 * finds them busy does not wait, it signs its own value.
 */
#define GWELB_ISSUED_SLOTS 8

struct gwelb_issued {
    long second;          /* 0: empty */
    const char *balancer; /* the balancer name it was signed for */
    char route[PROXY_WORKER_MAX_ROUTE_SIZE];
    char value[GWE_SIGNED_MAX + 1];
};

static int gwelb_issued_lock(gwelb_keys *k)
{
    return k->issued && apr_atomic_cas32(&k->issued_busy, 1, 0) == 0;
}

static void gwelb_issued_unlock(gwelb_keys *k)
{
    apr_atomic_set32(&k->issued_busy, 0);
}

/* 1 and the value in out when one was signed for route this second. */
int gwelb_issued_get(gwelb_keys *k, const char *balancer, const char *route,
                     long second, char *out, size_t cap)
{
    int i, hit = 0;

    if (!gwelb_issued_lock(k))
        return 0;
    for (i = 0; i < GWELB_ISSUED_SLOTS && !hit; i++) {
        const struct gwelb_issued *s = &k->issued[i];

        if (s->second == second && s->balancer == balancer &&
            !strcmp(s->route, route) && strlen(s->value) < cap) {
            strcpy(out, s->value);
            hit = 1;
        }
    }
    gwelb_issued_unlock(k);
    return hit;
}

/* Keeps value, signed this second for route, in place of an older one. */
void gwelb_issued_put(gwelb_keys *k, const char *balancer, const char *route,
                      long second, const char *value)
{
    struct gwelb_issued *s = NULL;
    int i;

    if (strlen(route) >= sizeof(s->route) ||
        strlen(value) >= sizeof(s->value) || !gwelb_issued_lock(k))
        return;
    for (i = 0; i < GWELB_ISSUED_SLOTS && !s; i++)
        if (k->issued[i].second != second)
            s = &k->issued[i];
    if (!s)
        s = &k->issued[k->issued_next++ % GWELB_ISSUED_SLOTS];
    s->second = second;
    s->balancer = balancer;
    strcpy(s->route, route);
    strcpy(s->value, value);
    gwelb_issued_unlock(k);
}

/* A configured member's route and its identifier under each key, made
 * once at start-up (README 4.8, opaque=on). */
struct gwelb_opaque_member {
    char route[PROXY_WORKER_MAX_ROUTE_SIZE];
    char id[GWE_SIGNED_KEYS_MAX][GWE_OPAQUE_ID_LEN];
};

static int gwelb_is_route(const gwelb_opaque_member *m, gwe_slice route)
{
    return route.len < sizeof(m->route) && !m->route[route.len] &&
           !memcmp(m->route, route.ptr, route.len);
}

/* The start-up table's entry for a member's route: first the member at
 * the same place, then any with that route; NULL when there is none. */
static const gwelb_opaque_member *
gwelb_opaque_find(const gwelb_keys *k, size_t member, gwe_slice route)
{
    int i;

    if (member < (size_t)k->nmembers &&
        gwelb_is_route(&k->members[member], route))
        return &k->members[member];
    for (i = 0; i < k->nmembers; i++)
        if (gwelb_is_route(&k->members[i], route))
            return &k->members[i];
    return NULL;
}

/*
 * The identifier of a member's route, from the start-up table.  A route
 * that was not configured at start-up (changed or added in
 * balancer-manager) costs one HMAC per call; the table is read-only, so
 * threads need no lock.
 */
int gwelb_opaque_id(void *ctx, int key_index, size_t member, gwe_slice route,
                    char out[GWE_OPAQUE_ID_LEN])
{
    const gwelb_keys *k = ctx;
    const gwelb_opaque_member *m;

    if (key_index < 0 || key_index >= k->n)
        return -1;
    if (!(m = gwelb_opaque_find(k, member, route)))
        return gwe_signed_opaque_id(gwelb_mac, ctx, key_index, route, out);
    memcpy(out, m->id[key_index], GWE_OPAQUE_ID_LEN);
    return 0;
}

/* The start-up table of gwelb_opaque_id for b's members. */
static const char *gwelb_opaque_table(apr_pool_t *p, apr_pool_t *ptemp,
                                      gwelb_keys *k, const proxy_balancer *b)
{
    proxy_worker **workers;
    int i, j, n;

    if (!b || !b->workers || !b->workers->nelts)
        return NULL;
    workers = (proxy_worker **)b->workers->elts;
    n = b->workers->nelts;
    k->members = apr_pcalloc(p, (apr_size_t)n * sizeof(*k->members));
    for (i = 0; i < n; i++) {
        gwelb_opaque_member *m = &k->members[i];
        gwe_slice route;

        apr_cpystrn(m->route, workers[i]->s->route, sizeof(m->route));
        route.ptr = m->route;
        route.len = strlen(m->route);
        for (j = 0; route.len && j < k->n; j++)
            if (gwe_signed_opaque_id(gwelb_mac, k, j, route, m->id[j]))
                return apr_psprintf(ptemp,
                                    "GWELBCookieKey: HMAC-SHA256 failed "
                                    "for route %s",
                                    m->route);
    }
    k->nmembers = n;
    return NULL;
}

/* Every key derived for b's scope (its cookie name and name), the key the
 * request path MACs values under. */
static const char *gwelb_scope_keys(apr_pool_t *p, apr_pool_t *ptemp,
                                    gwelb_keys *k,
                                    const gwelb_balancer_conf *bc,
                                    const proxy_balancer *b)
{
    unsigned char lens[16];
    gwe_slice scope[GWE_SIGNED_SCOPE_PARTS];
    gwe_slice name = {bc->cookie_name, bc->cookie_name_len};
    gwe_slice bal = {b->s->name, strlen(b->s->name)};
    size_t i, n = gwe_signed_scope(name, bal, lens, scope), at = 0;
    int j;

    for (i = 0; i < n; i++)
        k->scope_len += scope[i].len;
    k->scope = apr_palloc(p, k->scope_len);
    for (i = 0; i < n; at += scope[i].len, i++)
        memcpy(k->scope + at, scope[i].ptr, scope[i].len);
    for (j = 0; j < k->n; j++)
        if (!(k->scoped[j] = gwelb_derive(k, j, scope, n)))
            return apr_psprintf(ptemp,
                                "GWELBCookieKey %s: HMAC-SHA256 failed for "
                                "%s",
                                bc->key_files[j], b->s->name);
    return NULL;
}

static apr_status_t gwelb_keys_free(void *data)
{
    gwelb_keys *k = data;
    int i;

    for (i = 0; i < k->n; i++) {
        EVP_MAC_CTX_free(k->mac[i]);
        EVP_MAC_CTX_free(k->scoped[i]);
    }
    k->n = 0;
    EVP_MAC_free(k->hmac);
    k->hmac = NULL;
    return APR_SUCCESS;
}

/* The bytes of one key file, after the checks README 4.8 states; NULL and
 * *err when it fails them. */
static const unsigned char *gwelb_key_read(apr_pool_t *ptemp, const char *path,
                                           apr_size_t *len, const char **err)
{
    apr_finfo_t fi;
    apr_file_t *f;
    apr_status_t rv;
    unsigned char *buf;
    char ebuf[120];

    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_SIZE | APR_FINFO_PROT,
                  ptemp);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(ptemp, "GWELBCookieKey %s cannot be read: %s",
                            path, apr_strerror(rv, ebuf, sizeof ebuf));
        return NULL;
    }
    if (fi.filetype != APR_REG) {
        *err = apr_psprintf(ptemp, "GWELBCookieKey %s is not a file", path);
        return NULL;
    }
    if (fi.protection & (APR_GREAD | APR_WREAD)) {
        *err = apr_psprintf(ptemp,
                            "GWELBCookieKey %s can be read by its group or "
                            "by everyone; whoever reads it can forge route "
                            "cookies: chmod 600 %s",
                            path, path);
        return NULL;
    }
    if (fi.size < GWELB_KEY_MIN || fi.size > GWELB_KEY_MAX) {
        *err = apr_psprintf(ptemp,
                            "GWELBCookieKey %s holds %" APR_OFF_T_FMT
                            " bytes; a key is %d to %d random bytes: "
                            "openssl rand -out %s 32",
                            path, fi.size, GWELB_KEY_MIN, GWELB_KEY_MAX, path);
        return NULL;
    }
    buf = apr_palloc(ptemp, (apr_size_t)fi.size);
    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0,
                            ptemp)) != APR_SUCCESS ||
        (rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, len)) !=
            APR_SUCCESS) {
        *err = apr_psprintf(ptemp, "GWELBCookieKey %s cannot be read: %s",
                            path, apr_strerror(rv, ebuf, sizeof ebuf));
        return NULL;
    }
    apr_file_close(f);
    return buf;
}

/*
 * Reads bc's key files into bc->keys (pool p, freed with it), with the
 * identifiers of b's members' routes under each (opaque=on; b may be
 * NULL).  Returns NULL, or the first problem found, naming the file.  The
 * buffers holding the key bytes are wiped once OpenSSL has its copy.
 */
const char *gwelb_keys_load(apr_pool_t *p, apr_pool_t *ptemp,
                            gwelb_balancer_conf *bc, const proxy_balancer *b)
{
    gwelb_keys *k = apr_pcalloc(p, sizeof(*k));
    const char *err = NULL;
    int i;

    k->serial = ++gwelb_keys_serial;
    k->issued = apr_pcalloc(p, GWELB_ISSUED_SLOTS * sizeof(*k->issued));
    k->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL); /* freed with the keys */
    apr_pool_cleanup_register(p, k, gwelb_keys_free, apr_pool_cleanup_null);
    if (!k->hmac)
        return "GWELBCookieKey: OpenSSL's libcrypto offers no HMAC";
    for (i = 0; i < bc->nkeys && !err; i++) {
        apr_size_t len = 0;
        const unsigned char *key =
            gwelb_key_read(ptemp, bc->key_files[i], &len, &err);
        unsigned char digest[32];
        gwe_slice label = {gwelb_key_id_label, sizeof(gwelb_key_id_label)};

        if (!key)
            break;
        if (!(k->mac[i] = gwelb_keyed(k->hmac, key, len)))
            err = apr_psprintf(ptemp,
                               "GWELBCookieKey %s: OpenSSL cannot make an "
                               "HMAC-SHA256 key of it",
                               bc->key_files[i]);
        OPENSSL_cleanse((void *)key, len);
        if (k->mac[i])
            k->n = i + 1;
        if (!err && gwelb_mac(k, i, NULL, 0, &label, 1, digest))
            err = apr_psprintf(ptemp, "GWELBCookieKey %s: HMAC-SHA256 failed",
                               bc->key_files[i]);
        if (!err)
            gwe_signed_key_id(digest, &k->ids[2 * i]);
    }
    if (!err && b)
        err = gwelb_scope_keys(p, ptemp, k, bc, b);
    if (!err)
        err = gwelb_opaque_table(p, ptemp, k, b);
    if (err)
        return err;
    bc->keys = k;
    return NULL;
}
