"""One delivery POST against a local receiver: pinned address, no redirects, bounded recording."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from tests.support.webhook_receiver import WebhookReceiver

from cargoman.graphql_webhooks.targets import IPAddress, check_target
from cargoman.graphql_webhooks.transport import MAX_RECORDED_BODY, post


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def test_the_post_goes_to_the_checked_address_with_the_original_host(receiver: WebhookReceiver) -> None:
    def rebinding_resolver(host: str, port: int) -> list[IPAddress]:
        import ipaddress

        return [ipaddress.ip_address("127.0.0.1")]

    target = check_target(f"http://hooks.test:{receiver.port}/in?x=1", True, rebinding_resolver)
    response = post(target, {"Content-Type": "application/json", "X-Test": "1"}, b'{"data":{}}', 5.0)

    assert response.delivered and response.status == 200
    assert response.body == '{"received":true}'
    assert response.headers is not None and response.headers["content-type"] == "application/json"
    [request] = receiver.requests
    assert (request.method, request.path, request.body) == ("POST", "/in?x=1", b'{"data":{}}')
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.headers["x-test"] == "1"


def test_a_redirect_is_not_followed_and_is_not_a_delivery(receiver: WebhookReceiver) -> None:
    receiver.status = 302
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data"}
    response = post(check_target(receiver.url, True), {}, b"{}", 5.0)
    assert response.status == 302 and not response.delivered
    assert len(receiver.requests) == 1


def test_error_statuses_are_recorded_but_not_delivered(receiver: WebhookReceiver) -> None:
    receiver.status, receiver.body = 500, b"boom"
    response = post(check_target(receiver.url, True), {}, b"{}", 5.0)
    assert (response.status, response.body, response.delivered) == (500, "boom", False)


def test_a_large_answer_is_recorded_up_to_the_limit(receiver: WebhookReceiver) -> None:
    receiver.body = b"x" * (MAX_RECORDED_BODY * 3)
    response = post(check_target(receiver.url, True), {}, b"{}", 5.0)
    assert response.delivered
    assert response.body == "x" * MAX_RECORDED_BODY


def test_a_closed_port_is_a_network_error_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = post(check_target(f"http://127.0.0.1:{port}/hook", True), {}, b"{}", 5.0)
    assert response.status is None and not response.delivered
    assert response.error is not None and "ConnectError" in response.error
