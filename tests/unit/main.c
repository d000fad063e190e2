/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * main.c - runs every unit test suite of sticky/.  A suite missing from
 * this list would never run: `make unit` checks that every suite_*()
 * defined in tests/unit/ is listed here, and a START_TEST that no tcase
 * adds fails the -Werror build as an unused static.
 */
#include <stdlib.h>
#include "testutil.h"

int main(void)
{
    Suite *(*const suites[])(void) = {
        suite_guard,        suite_url_param,  suite_cookie,
        suite_pct,          suite_route,      suite_extract,
        suite_cookie_attrs, suite_set_cookie, suite_rendezvous,
        suite_signed,       suite_signed_hmac,
    };
    SRunner *sr = srunner_create(NULL);
    size_t i;
    int failed;

    for (i = 0; i < NELEMS(suites); i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
