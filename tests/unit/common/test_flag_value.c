/*
 * Unit tests for common/flag_value: the one parser of flag values taskd, loadgen and chaos
 * share. Each kind (duration, size, count, rate, ratio, address) accepts its forms exactly and
 * refuses the rest with the one sentence style — "--FLAG 'VALUE' is not ..." with the range —
 * leaving the output untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "flag_value.h"

static char err[512];

static void test_duration_takes_units_and_checks_the_range(void **state)
{
    (void)state;
    uint64_t ns = 0;
    assert_int_equal(flag_duration("d", "1m30s", 0, FLAG_NO_MAX, &ns, err, sizeof err), 0);
    assert_true(ns == 90000000000ull);
    assert_int_equal(flag_duration("d", "10ms", 10000000u, FLAG_NO_MAX, &ns, err, sizeof err), 0);
    assert_true(ns == 10000000u);
    ns = 7;
    assert_int_equal(flag_duration("busy-timeout", "500", 0, FLAG_NO_MAX, &ns, err, sizeof err),
                     -1);
    assert_string_equal(err, "--busy-timeout '500' is not a duration such as 250ms, 30s or 1m");
    assert_true(ns == 7);
    assert_int_equal(
        flag_duration("idle-timeout", "500ms", 1000000000u, FLAG_NO_MAX, &ns, err, sizeof err), -1);
    assert_string_equal(
        err, "--idle-timeout '500ms' is not a duration such as 250ms, 30s or 1m (at least 1s)");
    assert_int_equal(flag_duration("fault", "9ms", 10000000u, FLAG_NO_MAX, &ns, err, sizeof err),
                     -1);
    assert_string_equal(err, "--fault '9ms' is not a duration such as 250ms, 30s or 1m (at least "
                             "10ms)");
    assert_int_equal(flag_duration("w", "2h", 0, 3600000000000ull, &ns, err, sizeof err), -1);
    assert_string_equal(err, "--w '2h' is not a duration such as 250ms, 30s or 1m (at most 1h)");
    assert_int_equal(flag_duration("w", "", 1500000u, 90000000000ull, &ns, err, sizeof err), -1);
    assert_string_equal(err,
                        "--w '' is not a duration such as 250ms, 30s or 1m (from 1500us to 90s)");
    assert_true(ns == 7);
}

static void test_size_takes_binary_and_decimal_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {
        {"4096", 4096},     {"4096B", 4096},    {"64KiB", 65536},       {"16MiB", 16u << 20},
        {"16M", 16u << 20}, {"16m", 16u << 20}, {"1GiB", 1u << 30},     {"1.5GiB", 3u << 29},
        {"2kB", 2000},      {"3MB", 3000000},   {"1TB", 1000000000000}, {"2TiB", 2ull << 40},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t b = 0;
        assert_int_equal(flag_size("s", ok[i].text, 0, FLAG_NO_MAX, &b, err, sizeof err), 0);
        assert_true(b == ok[i].bytes);
    }
    static const char *const bad[] = {"", "MiB", "1 MiB", "-1", "1Mi", "1.5.2M", "0x10", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t b = 5;
        assert_int_equal(flag_size("size", bad[i], 0, FLAG_NO_MAX, &b, err, sizeof err), -1);
        assert_true(b == 5);
    }
    uint64_t b;
    assert_int_equal(flag_size("ballast", "1KiB", 1u << 20, 1u << 30, &b, err, sizeof err), -1);
    assert_string_equal(
        err, "--ballast '1KiB' is not a size such as 4096, 64KiB or 16MiB (from 1MiB to 1GiB)");
    assert_int_equal(flag_size("x", "100", 1000, FLAG_NO_MAX, &b, err, sizeof err), -1);
    assert_string_equal(err, "--x '100' is not a size such as 4096, 64KiB or 16MiB (at least 1000 "
                             "bytes)");
}

static void test_count_is_digits_within_the_range(void **state)
{
    (void)state;
    uint64_t n = 0;
    assert_int_equal(flag_count("threads", "4", 1, 256, &n, err, sizeof err), 0);
    assert_true(n == 4);
    assert_int_equal(flag_count("seed", "18446744073709551615", 0, UINT64_MAX, &n, err, sizeof err),
                     0);
    assert_true(n == UINT64_MAX);
    static const char *const bad[] = {"0", "257", "four", "", "+4", "-1", " 4", "4 ", "0x4", "4.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 9;
        assert_int_equal(flag_count("threads", bad[i], 1, 256, &n, err, sizeof err), -1);
        char want[128];
        snprintf(want, sizeof want, "--threads '%s' is not a whole number from 1 to 256", bad[i]);
        assert_string_equal(err, want);
        assert_true(n == 9);
    }
    assert_int_equal(flag_count("seed", "18446744073709551616", 0, UINT64_MAX, &n, err, sizeof err),
                     -1);
    assert_string_equal(err, "--seed '18446744073709551616' is not a whole number");
    assert_int_equal(flag_count("n", "0", 1, UINT64_MAX, &n, err, sizeof err), -1);
    assert_string_equal(err, "--n '0' is not a whole number of at least 1");
}

static void test_rate_is_a_positive_decimal(void **state)
{
    (void)state;
    double r = 0;
    assert_int_equal(flag_rate("rate", "0.5", 0, 10e6, &r, err, sizeof err), 0);
    assert_true(r == 0.5);
    assert_int_equal(flag_rate("rate", "10000000", 0, 10e6, &r, err, sizeof err), 0);
    static const char *const bad[] = {"0", "0.0", "-5", "10000001", "inf", "nan", "1e3", "", "5/s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = 3;
        assert_int_equal(flag_rate("rate", bad[i], 0, 10e6, &r, err, sizeof err), -1);
        assert_true(r == 3);
    }
    assert_string_equal(err,
                        "--rate '5/s' is not a number of requests per second above 0 and up to "
                        "10000000");
    assert_int_equal(flag_rate("rate", "0.5", 1, 100000, &r, err, sizeof err), -1);
    assert_string_equal(err,
                        "--rate '0.5' is not a number of requests per second from 1 to 100000");
}

static void test_ratio_is_a_fraction_or_a_percentage(void **state)
{
    (void)state;
    double x = -1;
    assert_int_equal(flag_ratio("r", "0.05", &x, err, sizeof err), 0);
    assert_true(x == 0.05);
    assert_int_equal(flag_ratio("r", "5%", &x, err, sizeof err), 0);
    assert_true(x > 0.0499999 && x < 0.0500001);
    assert_int_equal(flag_ratio("r", "0", &x, err, sizeof err), 0);
    assert_true(x == 0);
    assert_int_equal(flag_ratio("r", "100%", &x, err, sizeof err), 0);
    assert_true(x == 1);
    static const char *const bad[] = {"1.5", "101%", "-0.1", "", "%", "5%%", "half"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        x = 7;
        assert_int_equal(flag_ratio("missing-ratio", bad[i], &x, err, sizeof err), -1);
        assert_true(x == 7);
    }
    assert_string_equal(err,
                        "--missing-ratio 'half' is not a ratio from 0 to 1, such as 0.05 or 5%");
}

static void test_addr_parses_and_names_the_flag_on_refusal(void **state)
{
    (void)state;
    struct listen_addr a;
    assert_int_equal(flag_addr("listen", "127.0.0.1:5000", &a, err, sizeof err), 0);
    assert_int_equal(a.addr.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a.addr)->sin_port), 5000);
    char text[64];
    listen_addr_format(&a, text, sizeof text);
    assert_string_equal(text, "127.0.0.1:5000");
    assert_int_equal(flag_addr("listen", "[::1]:0", &a, err, sizeof err), 0);
    listen_addr_format(&a, text, sizeof text);
    assert_string_equal(text, "[::1]:0");
    assert_int_equal(flag_addr("webhook-listen", "127.0.0.1:99999", &a, err, sizeof err), -1);
    assert_string_equal(err, "--webhook-listen '127.0.0.1:99999' is not an address to listen on: "
                             "'99999' is not a port number from 0 to 65535");
    assert_int_equal(flag_addr("listen", "5000", &a, err, sizeof err), -1);
    assert_string_equal(err, "--listen '5000' is not an address to listen on: '5000' has no port: "
                             "write HOST:PORT, e.g. 127.0.0.1:5000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_takes_units_and_checks_the_range),
        cmocka_unit_test(test_size_takes_binary_and_decimal_units),
        cmocka_unit_test(test_count_is_digits_within_the_range),
        cmocka_unit_test(test_rate_is_a_positive_decimal),
        cmocka_unit_test(test_ratio_is_a_fraction_or_a_percentage),
        cmocka_unit_test(test_addr_parses_and_names_the_flag_on_refusal),
    };
    return cmocka_run_group_tests_name("flag_value", tests, NULL, NULL);
}
