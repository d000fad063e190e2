/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * route.c - which member route a decoded value names (README 4.3).
 *
 * The route is the LONGEST suffix "separator + route" among the member
 * routes, not the text after the first (or last) separator: application
 * names and session ids may contain the separator themselves, so
 * "x.y.GWE.Frontend.1" names "GWE.Frontend.1" when a member has that route,
 * even if another member is routed "1".  Bytes before the suffix are
 * opaque.
 */
#include "sticky.h"
#include <string.h>

int gwe_route_match(const char *value, size_t len, char sep,
                    const gwe_slice *routes, size_t nroutes)
{
    int best = -1;
    size_t best_len = 0;
    size_t i;

    if (value == NULL || routes == NULL)
        return -1;
    for (i = 0; i < nroutes; i++) {
        size_t rl = routes[i].len;
        const char *tail;

        if (rl == 0 || rl <= best_len || rl >= len)
            continue;
        tail = value + len - rl;
        /* routes of one cluster often differ only at the end (node1,
         * node2): the last byte rules most of them out without a call */
        if (tail[-1] == sep && tail[rl - 1] == routes[i].ptr[rl - 1] &&
            memcmp(tail, routes[i].ptr, rl) == 0) {
            best = (int)i;
            best_len = rl;
        }
    }
    return best;
}
