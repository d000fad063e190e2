/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_guard.c - the guard helper really puts inputs before an unreadable
 * page; every other suite relies on it to catch over-reads.
 */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

static const struct {
    const char *name;
    size_t len;       /* input length */
    ptrdiff_t offset; /* byte read, counted from the start of the copy */
    int faults;       /* 1: the read must fault */
    int front;        /* the row is for GWE_GUARD_FRONT (under-reads) */
} rows[] = {
    {"last byte of the input is readable", 10, 9, 0, 0},
    {"first byte past the input faults", 10, 10, 1, 0},
    {"first byte past a page-sized input faults", 4096, 4096, 1, 0},
    {"empty input: any read faults", 0, 0, 1, 0},
    {"front: first byte of the input is readable", 10, 0, 0, 1},
    {"front: last byte of a page-sized input is readable", 4096, 4095, 0, 1},
    {"front: the byte before the input faults", 10, -1, 1, 1},
};

static void on_fault(int sig)
{
    (void)sig;
    _exit(42);
}

START_TEST(guard_row)
{
    guard g;
    char src[8192];
    const char *p;
    pid_t pid;
    int status;

    if (rows[_i].front != (getenv("GWE_GUARD_FRONT") != NULL))
        return; /* the row is for the other layout */
    memset(src, 'x', sizeof src);
    guard_init(&g);
    p = guard_dup(&g, src, rows[_i].len);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fault;
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        _exit(((const volatile char *)p)[rows[_i].offset] == 'x' ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (rows[_i].faults)
        ck_assert_msg(WIFSIGNALED(status) ||
                          (WIFEXITED(status) && WEXITSTATUS(status) == 42),
                      "%s: read did not fault", rows[_i].name);
    else
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "%s: read failed", rows[_i].name);
    guard_release(&g);
}
END_TEST

Suite *suite_guard(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("over-read guard");

    tcase_add_loop_test(tc, guard_row, 0, (int)NELEMS(rows));
    suite_add_tcase(s, tc);
    return s;
}
