/*
 * test_lifecycle: taskd as a process. SIGTERM and SIGINT drain and exit 0 with the data intact;
 * every acknowledged create survives kill -9; a request in flight at SIGTERM still completes
 * while new connections are refused; --port-file names the bound port; TASKD_LISTEN and
 * TASKD_DB configure it (flags win over them); a bad flag or variable stops it with exit code 2
 * and one line on stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "logfile.h"
#include "scratch.h"

static void release_log(void *p)
{
    logfile_free(p);
}

static struct logfile *read_log(struct fixture *fx, size_t offset)
{
    struct logfile *lf;
    if (logfile_read(fx->proc.log_path, offset, &lf) < 0)
        fx_fail_at(__FILE__, __LINE__, "cannot read %s", fx->proc.log_path);
    return scratch_keep(lf, release_log);
}

/* The "msg" of log line i, "" when it has none. */
static const char *msg_of(const struct logfile *lf, size_t i)
{
    const char *msg = lf->lines[i].json ? fx_json_str(lf->lines[i].json, "msg") : NULL;
    return msg ? msg : "";
}

/* The port file is written just before the "listening" line: wait for the line. */
static void wait_listening(struct fixture *fx)
{
    if (logfile_wait_msg(fx->proc.log_path, 0, "listening", 1, 5000) < 0)
        fx_fail_at(__FILE__, __LINE__, "no \"listening\" line in the log within 5 s");
}

static size_t log_size(struct fixture *fx)
{
    struct stat st;
    return stat(fx->proc.log_path, &st) == 0 ? (size_t)st.st_size : 0;
}

static int path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Stops taskd with `sig` and expects a clean exit 0 with nothing cut short. */
static void expect_clean_stop(struct fixture *fx, int sig)
{
    size_t offset = log_size(fx);
    int status = 0;
    assert_int_equal(taskd_proc_signal(&fx->proc, sig), 0);
    if (taskd_proc_wait(&fx->proc, TASKD_PROC_STOP_TIMEOUT_MS, &status) < 0)
        fx_fail_at(__FILE__, __LINE__, "taskd did not exit within %d ms of signal %d",
                   TASKD_PROC_STOP_TIMEOUT_MS, sig);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fx_fail_at(__FILE__, __LINE__,
                   "taskd ended with wait status 0x%x after signal %d, "
                   "expected exit 0",
                   status, sig);
    struct logfile *lf = read_log(fx, offset);
    assert_int_equal(logfile_count_msg(lf, "shutting down"), 1);
    assert_int_equal(logfile_count_msg(lf, "stopped"), 1);
    for (size_t i = 0; i < lf->count; i++) {
        if (!strcmp(msg_of(lf, i), "stopped"))
            assert_int_equal(fx_json_int(lf->lines[i].json, "requests_cut_short"), 0);
    }
}

static void restart(struct fixture *fx)
{
    http_close(fx->conn); /* it was to the old process */
    fx->conn = NULL;
    if (taskd_proc_restart(&fx->proc) < 0)
        fx_fail_at(__FILE__, __LINE__, "taskd did not start again on %s", fx->proc.dir);
}

static void test_sigterm_exits_0_and_the_data_survives_a_restart(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "first");
    fx_create(fx, "second \xe2\x9c\x93");
    fx_create(fx, "third");
    fx_expect_status(fx_request(fx, "PUT", "/tasks/2", fx_json_headers, "{\"done\":true}"), 200);
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/3", NULL, NULL), 204);
    struct http_response *before = fx_request(fx, "GET", "/tasks", NULL, NULL);
    expect_clean_stop(fx, SIGTERM);
    char wal[400];
    snprintf(wal, sizeof(wal), "%s-wal", fx->proc.db_path);
    if (path_exists(wal))
        fx_fail_at(__FILE__, __LINE__, "%s is still there: the database was not closed cleanly",
                   wal);
    size_t offset = log_size(fx);
    restart(fx);
    struct http_response *after = fx_request(fx, "GET", "/tasks", NULL, NULL);
    fx_expect_status(after, 200);
    assert_string_equal(after->body, before->body);
    struct scrape *sc = fx_scrape(fx);
    assert_true(fx_metric(sc, "taskd_db_created_total", NULL) == 0.0);
    assert_true(fx_metric(sc, "taskd_tasks", NULL) == 2.0);
    struct logfile *lf = read_log(fx, offset);
    for (size_t i = 0; i < lf->count; i++) {
        if (strstr(msg_of(lf, i), "created a new empty database"))
            fx_fail_at(__FILE__, __LINE__, "the restart created a new database: %s",
                       lf->lines[i].raw);
    }
}

static void test_sigint_exits_0_like_sigterm(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "kept");
    expect_clean_stop(fx, SIGINT);
    restart(fx);
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1, "kept", 0);
}

static void test_ids_are_not_reused_after_a_restart(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "one");
    fx_create(fx, "two");
    fx_expect_status(fx_request(fx, "DELETE", "/tasks/2", NULL, NULL), 204);
    expect_clean_stop(fx, SIGTERM);
    restart(fx);
    assert_int_equal(fx_json_int(fx_create(fx, "three"), "id"), 3);
}

#define KILL9_TASKS 200

/* Every create that got a 201 is committed: after kill -9, right after the last 201, a restart
 * finds every one of them, identical. */
static void test_acknowledged_creates_survive_kill_9(void **state)
{
    struct fixture *fx = *state;
    static char bodies[KILL9_TASKS][400];
    for (int i = 0; i < KILL9_TASKS; i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"task\":\"kill -9 survivor %03d \\u2713\"}", i + 1);
        struct http_response *res = fx_request(fx, "POST", "/tasks", fx_json_headers, json);
        fx_expect_status(res, 201);
        assert_true(res->body_len < sizeof(bodies[i]));
        memcpy(bodies[i], res->body, res->body_len + 1);
        scratch_drop(res);
    }
    int status;
    assert_int_equal(taskd_proc_kill9(&fx->proc, &status), 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    restart(fx);
    struct http_response *res = fx_request(fx, "GET", "/tasks?limit=1000", NULL, NULL);
    fx_expect_status(res, 200);
    cJSON *list = fx_json(res);
    assert_int_equal(cJSON_GetArraySize(list), KILL9_TASKS);
    int i = 0;
    for (const cJSON *t = list->child; t; t = t->next, i++) {
        char *got = cJSON_PrintUnformatted(t);
        int same = got && strcmp(got, bodies[i]) == 0;
        if (!same) {
            fx_context("task %d", i + 1);
            scratch_keep(got, scratch_free);
            fx_fail_at(__FILE__, __LINE__, "after kill -9 the task is %s, acknowledged as %s",
                       got ? got : "?", bodies[i]);
        }
        free(got);
    }
}

/* Polls until a connection to `port` is refused (the listener is closed). */
static int wait_refused(uint16_t port, int timeout_ms)
{
    double deadline = fx_now_ms() + timeout_ms;
    while (fx_now_ms() < deadline) {
        struct http_conn *c;
        int rc = http_connect(port, &c);
        if (rc == -ECONNREFUSED)
            return 0;
        http_close(c);
        fx_sleep_ms(10);
    }
    return -1;
}

static void test_sigterm_finishes_requests_in_flight(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *c = fx_connect(fx);
    static const char body[] = "{\"task\":\"finished after SIGTERM\"}";
    char head[256];
    snprintf(head, sizeof(head),
             "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    fx_send(c, head);
    assert_int_equal(http_send(c, body, 10), 0); /* the request is now in flight */
    fx_sleep_ms(100);
    assert_int_equal(taskd_proc_signal(&fx->proc, SIGTERM), 0);
    if (logfile_wait_msg(fx->proc.log_path, 0, "shutting down", 1, 5000) < 0)
        fx_fail_at(__FILE__, __LINE__, "no \"shutting down\" line within 5 s of SIGTERM");
    if (wait_refused(fx->proc.port, 3000) < 0)
        fx_fail_at(__FILE__, __LINE__, "new connections are still accepted 3 s after SIGTERM");
    fx_send(c, body + 10);
    struct http_response *res = fx_read(c, "POST");
    fx_expect_status(res, 201);
    fx_expect_task(fx_json(res), 1, "finished after SIGTERM", 0);
    int status = 0;
    if (taskd_proc_wait(&fx->proc, TASKD_PROC_STOP_TIMEOUT_MS, &status) < 0)
        fx_fail_at(__FILE__, __LINE__, "taskd did not exit after the last request finished");
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    restart(fx);
    fx_expect_task(fx_json(fx_request(fx, "GET", "/tasks/1", NULL, NULL)), 1,
                   "finished after SIGTERM", 0);
}

/* While draining, a new request on a kept-alive connection is refused with 503 shutting_down
 * (it must not reach a store that is about to close), and the answer to a request already in
 * flight closes its connection. */
static void test_draining_refuses_new_requests_and_closes_connections(void **state)
{
    struct fixture *fx = *state;
    struct http_conn *idle = fx_connect(fx);
    fx_expect_status(fx_request_on(idle, "GET", "/livez", NULL, NULL), 200);
    struct http_conn *busy = fx_connect(fx);
    static const char body[] = "{\"task\":\"in flight\"}";
    char head[256];
    snprintf(head, sizeof(head),
             "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    fx_send(busy, head);
    assert_int_equal(http_send(busy, body, 5), 0); /* in flight until the rest is sent */
    fx_sleep_ms(100);
    assert_int_equal(taskd_proc_signal(&fx->proc, SIGTERM), 0);
    if (logfile_wait_msg(fx->proc.log_path, 0, "shutting down", 1, 5000) < 0)
        fx_fail_at(__FILE__, __LINE__, "no \"shutting down\" line within 5 s of SIGTERM");

    struct http_response *refused = fx_request_on(idle, "GET", "/livez", NULL, NULL);
    fx_expect_error(refused, 503, "shutting_down");
    assert_string_equal(http_header(refused, "Retry-After"), "1");
    assert_int_equal(http_wait_closed(idle, 3000, NULL), 0);

    fx_send(busy, body + 5);
    struct http_response *done = fx_read(busy, "POST");
    fx_expect_status(done, 201);
    assert_string_equal(http_header(done, "Connection"), "close");
    int status = 0;
    if (taskd_proc_wait(&fx->proc, TASKD_PROC_STOP_TIMEOUT_MS, &status) < 0)
        fx_fail_at(__FILE__, __LINE__, "taskd did not exit after the last request finished");
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_port_file_holds_the_bound_port(void **state)
{
    struct fixture *fx = *state;
    char *text = scratch_keep(taskd_proc_read_file(fx->proc.port_file, NULL), scratch_free);
    assert_non_null(text);
    char expected[16];
    snprintf(expected, sizeof(expected), "%u\n", (unsigned)fx->proc.port);
    assert_string_equal(text, expected);
    char tmp[400];
    snprintf(tmp, sizeof(tmp), "%s.tmp", fx->proc.port_file);
    assert_false(path_exists(tmp));
    fx_expect_serving(fx);
    wait_listening(fx);
    struct logfile *lf = read_log(fx, 0);
    assert_int_equal(logfile_count_msg(lf, "listening"), 1);
    for (size_t i = 0; i < lf->count; i++) {
        if (!strcmp(msg_of(lf, i), "listening"))
            assert_int_equal(fx_json_int(lf->lines[i].json, "port"), fx->proc.port);
    }
}

static int setup_from_env(void **state)
{
    static const char *const env[] = {"TASKD_LISTEN=127.0.0.1:0",
                                      "TASKD_DB=@DIR@/from-env/tasks.db", NULL};
    const struct taskd_opts opts = {.env = env, .omit_listen_db = 1};
    return fx_setup_with(state, &opts);
}

static void test_env_vars_set_the_listen_address_and_database(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "stored where TASKD_DB says");
    char env_db[400];
    snprintf(env_db, sizeof(env_db), "%s/from-env/tasks.db", fx->proc.dir);
    assert_true(path_exists(env_db));
    assert_false(path_exists(fx->proc.db_path));
    wait_listening(fx);
    struct logfile *lf = read_log(fx, 0);
    for (size_t i = 0; i < lf->count; i++) {
        const cJSON *j = lf->lines[i].json;
        if (strcmp(msg_of(lf, i), "listening") != 0)
            continue;
        assert_string_equal(fx_json_str(j, "listen"), "127.0.0.1:0");
        assert_string_equal(fx_json_str(j, "db_path"), env_db);
        return;
    }
    fx_fail_at(__FILE__, __LINE__, "no \"listening\" line in the log");
}

static int setup_flag_and_env(void **state)
{
    static const char *const env[] = {"TASKD_DB=@DIR@/from-env.db", "TASKD_LISTEN=127.0.0.1:1",
                                      NULL};
    const struct taskd_opts opts = {.env = env};
    return fx_setup_with(state, &opts);
}

static void test_flags_win_over_env_vars(void **state)
{
    struct fixture *fx = *state;
    fx_create(fx, "stored where --db says");
    char env_db[400];
    snprintf(env_db, sizeof(env_db), "%s/from-env.db", fx->proc.dir);
    assert_true(path_exists(fx->proc.db_path));
    assert_false(path_exists(env_db));
    assert_int_not_equal(fx->proc.port, 1);
}

/* Runs taskd with `args` and `env`; it must exit 2 with exactly one "taskd: …" line on stderr
 * that contains `mention`, and nothing on stdout. */
static void expect_usage_error(const char *const *args, const char *const *env, const char *mention)
{
    char *out, *err;
    fx_context("taskd %s%s", args[0] ? args[0] : "", env && env[0] ? " with env" : "");
    int code = fx_run_taskd(args, env, &out, &err);
    if (code != 2)
        fx_fail_at(__FILE__, __LINE__, "exit code %d, expected 2; stderr: %s", code, err);
    assert_string_equal(out, "");
    size_t n = strlen(err);
    char *first_newline = strchr(err, '\n');
    if (strncmp(err, "taskd: ", 7) != 0 || n < 9 || first_newline != err + n - 1)
        fx_fail_at(__FILE__, __LINE__, "stderr is not one \"taskd: ...\" line: \"%s\"", err);
    if (!strstr(err, mention))
        fx_fail_at(__FILE__, __LINE__, "stderr \"%s\" does not mention %s", err, mention);
}

static void test_invalid_flags_exit_2_with_one_line_on_stderr(void **state)
{
    (void)state;
    static const char *const bogus[] = {"--bogus", NULL};
    static const char *const threads[] = {"--threads", "0", NULL};
    static const char *const timeout[] = {"--idle-timeout", "30", NULL};
    static const char *const sync[] = {"--sync", "fast", NULL};
    static const char *const missing[] = {"--listen", NULL};
    static const char *const positional[] = {"serve", NULL};
    static const char *const level[] = {"--log-level=loud", NULL};
    expect_usage_error(bogus, NULL, "--bogus");
    expect_usage_error(threads, NULL, "--threads");
    expect_usage_error(timeout, NULL, "--idle-timeout");
    expect_usage_error(sync, NULL, "--sync");
    expect_usage_error(missing, NULL, "--listen");
    expect_usage_error(positional, NULL, "serve");
    expect_usage_error(level, NULL, "--log-level");
}

static void test_invalid_env_values_exit_2_with_one_line_on_stderr(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    static const char *const threads[] = {"TASKD_THREADS=abc", NULL};
    static const char *const sync[] = {"TASKD_SYNC=sometimes", NULL};
    static const char *const timeout[] = {"TASKD_IDLE_TIMEOUT=5", NULL};
    expect_usage_error(none, threads, "abc");
    expect_usage_error(none, sync, "sometimes");
    expect_usage_error(none, timeout, "5");
}

static void test_help_exits_0_with_usage_on_stdout(void **state)
{
    (void)state;
    static const char *const args[] = {"--help", NULL};
    char *out, *err;
    assert_int_equal(fx_run_taskd(args, NULL, &out, &err), 0);
    assert_true(strncmp(out, "usage: taskd", 12) == 0);
    assert_string_equal(err, "");
}

static int teardown_only(void **state)
{
    (void)state;
    scratch_release_all();
    fx_context("%s", "");
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sigterm_exits_0_and_the_data_survives_a_restart),
        T(test_sigint_exits_0_like_sigterm),
        T(test_ids_are_not_reused_after_a_restart),
        T(test_acknowledged_creates_survive_kill_9),
        T(test_sigterm_finishes_requests_in_flight),
        T(test_draining_refuses_new_requests_and_closes_connections),
        T(test_port_file_holds_the_bound_port),
        cmocka_unit_test_setup_teardown(test_env_vars_set_the_listen_address_and_database,
                                        setup_from_env, fx_teardown),
        cmocka_unit_test_setup_teardown(test_flags_win_over_env_vars, setup_flag_and_env,
                                        fx_teardown),
        cmocka_unit_test_teardown(test_invalid_flags_exit_2_with_one_line_on_stderr, teardown_only),
        cmocka_unit_test_teardown(test_invalid_env_values_exit_2_with_one_line_on_stderr,
                                  teardown_only),
        cmocka_unit_test_teardown(test_help_exits_0_with_usage_on_stdout, teardown_only),
    };
    return cmocka_run_group_tests_name("e2e_lifecycle", tests, NULL, NULL);
}
