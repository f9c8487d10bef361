"""The delivery target policy as a pure function: refused addresses are never contacted."""

from __future__ import annotations

import pytest

from aioubiwebhooks.emulator import TargetPolicy
from aioubiwebhooks.emulator._delivery import outgoing_headers

OPEN = TargetPolicy.of(None)


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",  # the metadata service of most clouds
        "169.254.0.1",
        "169.254.255.255",
        "fe80::1",
        "fe80::1%25eth0",  # with a zone, as it stands in a URL
        "FE80::abcd",
        "febf:ffff::1",
        "::ffff:169.254.169.254",  # an IPv4 address inside IPv6
        "fd00:ec2::254",
        "100.100.100.200",
        "metadata.google.internal",
        "METADATA.google.internal.",
        "metadata",
        "instance-data",
    ],
)
def test_link_local_and_metadata_hosts_are_refused(host: str) -> None:
    reason = OPEN.refuse_host(host)
    assert reason is not None
    assert "metadata" in reason or "link-local" in reason


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "192.168.0.10",
        "8.8.8.8",
        "fec0::1",
        "example.org",
        "localhost",
    ],
)
def test_other_hosts_are_not_refused_before_resolving(host: str) -> None:
    assert OPEN.refuse_host(host) is None


def test_a_name_is_judged_by_the_addresses_it_resolves_to() -> None:
    assert OPEN.refuse_address("innocent.example", "93.184.216.34") is None
    reason = OPEN.refuse_address("innocent.example", "169.254.169.254")
    assert reason == "169.254.169.254 is link-local or a cloud metadata address"
    assert OPEN.refuse_address("x.example", "fe80::1%3") is not None


def test_a_narrowed_policy_allows_only_its_entries() -> None:
    policy = TargetPolicy.of(["10.0.0.0/8", "127.0.0.1", "receiver.internal"])
    assert policy.describe() == ["10.0.0.0/8", "127.0.0.1/32", "receiver.internal"]
    assert policy.refuse_host("10.20.30.40") is None
    assert policy.refuse_host("127.0.0.1") is None
    assert policy.refuse_host("receiver.internal") is None
    assert policy.refuse_address("receiver.internal", "192.0.2.7") is None
    assert policy.refuse_host("127.0.0.2") == "127.0.0.2 is not among the allowed targets"
    assert policy.refuse_host("::1") is not None
    assert policy.refuse_host("elsewhere.example") is None  # then judged by address:
    assert policy.refuse_address("elsewhere.example", "127.0.0.1") is None
    assert policy.refuse_address("elsewhere.example", "11.0.0.1") is not None
    assert policy.refuse_host("169.254.169.254") is not None


def test_an_entry_that_covers_a_refused_address_allows_it() -> None:
    policy = TargetPolicy.of(["169.254.0.0/16", "metadata.google.internal"])
    assert policy.refuse_host("169.254.169.254") is None
    assert policy.refuse_host("metadata.google.internal") is None
    assert policy.refuse_host("fe80::1") is not None


@pytest.mark.parametrize("entry", ["", "  ", "http://x", "host:80", "a b", "user@host", "-x"])
def test_malformed_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="allow_targets"):
        TargetPolicy.of([entry])


def test_a_single_string_is_not_a_list_of_entries() -> None:
    with pytest.raises(TypeError):
        TargetPolicy.of("127.0.0.1")


def test_host_and_framing_headers_are_not_forwarded() -> None:
    headers = outgoing_headers(
        [
            ("Host", "internal.example"),
            ("content-length", "3"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "close"),
            ("Authorization", "Token t"),
            ("X-Other", "1"),
        ]
    )
    assert dict(headers) == {
        "Content-Type": "application/json",
        "Authorization": "Token t",
        "X-Other": "1",
    }
