"""One order, one trace: from the gateway through orders, catalog's worker and orders' worker to
notify's, over the real queues, exported by each process to a real OTLP receiver."""

from tests.support import ReceivedSpan, TraceSink, create_orderable_product, eventually, place_order

# The processes one order passes through, as each names itself in its spans (edge.tracing).
ORDER_PATH = ("orders-web", "catalog-worker", "orders-worker", "notify-worker")


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    by_id = {each.span_id: each for each in spans}
    chain = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


def _complete(traces: TraceSink, trace_id: str) -> list[ReceivedSpan] | None:
    """The trace's spans once every process of the order's path sent its handling of it, and
    every span's parent has come too (or is the gateway's own, which nginx does not export)."""
    spans = traces.spans_of(trace_id)
    gateway_span_id = trace_id[:16]
    known = {span.span_id for span in spans} | {gateway_span_id}
    services = {span.service for span in spans}
    if set(ORDER_PATH) <= services and all(span.parent_span_id in known for span in spans):
        return spans
    return None


def test_an_orders_spans_form_one_trace_from_the_gateway_to_the_notify_worker(
    gateway, staff, stack, customer, traces
):
    product = create_orderable_product(gateway, staff, stack, on_hand=3)

    placed = place_order(gateway, customer, [(product["id"], 1)])

    assert placed.status_code == 201, placed.text
    # The gateway minted the trace: its id is the request id it answered with.
    trace_id = placed.headers["X-Request-ID"]
    spans = eventually(lambda: _complete(traces, trace_id), timeout=40)
    # The gateway's traceparent is the parent of the requests it sent on: to orders, and to auth
    # for the token check unless the gateway had its answer cached.
    roots = [span for span in spans if span.parent_span_id == trace_id[:16]]
    assert "orders-web" in {span.service for span in roots}
    assert all(span.service in ("orders-web", "auth-web") for span in roots), roots
    # Each process's handling of the order descends from the one before it on the path.
    request = next(span for span in roots if span.service == "orders-web")
    handled_by = {
        service: [span for span in spans if span.service == service and span.name == "run/edge.handle_event"]
        for service in ORDER_PATH[1:]
    }
    before = [request]
    for service in ORDER_PATH[1:]:
        assert handled_by[service], f"{service} sent no span of handling the event"
        assert any(set(before) & set(_ancestors(run, spans)) for run in handled_by[service]), (
            f"{service}'s handling does not descend from {before[0].service}'s"
        )
        before = handled_by[service]
