/*
 * Unit tests for common/listen_addr: the HOST:PORT forms users write (IPv4, every interface,
 * bracketed IPv6, a name, port 0) produce the right socket address, and each malformed form is
 * refused with a sentence in the caller's error buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "listen_addr.h"

static const struct sockaddr_in *ipv4(const struct listen_addr *a)
{
    assert_int_equal(a->addr.ss_family, AF_INET);
    assert_int_equal(a->len, sizeof(struct sockaddr_in));
    return (const struct sockaddr_in *)&a->addr;
}

static const struct sockaddr_in6 *ipv6(const struct listen_addr *a)
{
    assert_int_equal(a->addr.ss_family, AF_INET6);
    assert_int_equal(a->len, sizeof(struct sockaddr_in6));
    return (const struct sockaddr_in6 *)&a->addr;
}

/* Parses text, which must be refused; returns the error sentence (static storage). */
static const char *refused(const char *text)
{
    static char error[256];
    struct listen_addr a;
    memset(error, 0, sizeof(error));
    assert_int_equal(listen_addr_parse(text, &a, error, sizeof(error)), -1);
    assert_true(error[0] != '\0');
    return error;
}

static void test_listen_addr_parses_ipv4_and_port(void **state)
{
    (void)state;
    struct listen_addr a;
    char error[256] = "";
    assert_int_equal(listen_addr_parse("127.0.0.1:5000", &a, error, sizeof(error)), 0);
    const struct sockaddr_in *sin = ipv4(&a);
    assert_int_equal(ntohs(sin->sin_port), 5000);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
}

static void test_listen_addr_empty_host_means_every_ipv4_interface(void **state)
{
    (void)state;
    struct listen_addr a;
    char error[256] = "";
    assert_int_equal(listen_addr_parse(":0", &a, error, sizeof(error)), 0);
    const struct sockaddr_in *sin = ipv4(&a);
    assert_int_equal(ntohs(sin->sin_port), 0);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_ANY);
}

static void test_listen_addr_parses_bracketed_ipv6(void **state)
{
    (void)state;
    struct listen_addr a;
    char error[256] = "";
    assert_int_equal(listen_addr_parse("[::1]:8080", &a, error, sizeof(error)), 0);
    const struct sockaddr_in6 *sin6 = ipv6(&a);
    assert_int_equal(ntohs(sin6->sin6_port), 8080);
    assert_memory_equal(&sin6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));
}

static void test_listen_addr_accepts_highest_port(void **state)
{
    (void)state;
    struct listen_addr a;
    char error[256] = "";
    assert_int_equal(listen_addr_parse("127.0.0.1:65535", &a, error, sizeof(error)), 0);
    assert_int_equal(ntohs(ipv4(&a)->sin_port), 65535);
}

static void test_listen_addr_resolves_localhost(void **state)
{
    (void)state;
    struct listen_addr a;
    char error[256] = "";
    assert_int_equal(listen_addr_parse("localhost:5000", &a, error, sizeof(error)), 0);
    if (a.addr.ss_family == AF_INET)
        assert_int_equal(ntohs(ipv4(&a)->sin_port), 5000);
    else
        assert_int_equal(ntohs(ipv6(&a)->sin6_port), 5000);
}

static void test_listen_addr_rejects_missing_port(void **state)
{
    (void)state;
    const char *error = refused("127.0.0.1");
    assert_non_null(strstr(error, "no port"));
    assert_non_null(strstr(error, "127.0.0.1"));
}

static void test_listen_addr_rejects_empty_port(void **state)
{
    (void)state;
    refused("127.0.0.1:");
    refused(":");
}

static void test_listen_addr_rejects_bracketed_ipv6_without_port(void **state)
{
    (void)state;
    refused("[::1]");
}

static void test_listen_addr_rejects_port_70000(void **state)
{
    (void)state;
    const char *error = refused("127.0.0.1:70000");
    assert_non_null(strstr(error, "70000"));
    assert_non_null(strstr(error, "65535"));
}

static void test_listen_addr_rejects_negative_port(void **state)
{
    (void)state;
    refused("127.0.0.1:-1");
}

static void test_listen_addr_rejects_non_numeric_port(void **state)
{
    (void)state;
    const char *error = refused("127.0.0.1:http");
    assert_non_null(strstr(error, "'http'"));
    refused("127.0.0.1:50x");
    refused("127.0.0.1:0x10");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_addr_parses_ipv4_and_port),
        cmocka_unit_test(test_listen_addr_empty_host_means_every_ipv4_interface),
        cmocka_unit_test(test_listen_addr_parses_bracketed_ipv6),
        cmocka_unit_test(test_listen_addr_accepts_highest_port),
        cmocka_unit_test(test_listen_addr_resolves_localhost),
        cmocka_unit_test(test_listen_addr_rejects_missing_port),
        cmocka_unit_test(test_listen_addr_rejects_empty_port),
        cmocka_unit_test(test_listen_addr_rejects_bracketed_ipv6_without_port),
        cmocka_unit_test(test_listen_addr_rejects_port_70000),
        cmocka_unit_test(test_listen_addr_rejects_negative_port),
        cmocka_unit_test(test_listen_addr_rejects_non_numeric_port),
    };
    return cmocka_run_group_tests_name("listen_addr", tests, NULL, NULL);
}
