"""`Journal.intents()`: every order intent in recording order, optionally by status."""

from __future__ import annotations

from shared.journal import IntentStatus, Journal
from tests.shared.journal.factories import BOT


def _record(journal: Journal, request_id: str, uic: int) -> None:
    journal.record_intent(
        request_id=request_id,
        bot=BOT,
        action="open",
        payload={"uic": uic, "asset_type": "StockIndexOption", "leg": "long_call"},
    )


def test_intents_lists_every_intent_in_recording_order_with_payloads(journal: Journal) -> None:
    for index, request_id in enumerate(["c", "a", "b"]):
        _record(journal, request_id, 1000 + index)
    journal.mark_intent("c", IntentStatus.SENT, order_id="o-1")
    journal.mark_intent("c", IntentStatus.FILLED)

    found = journal.intents()

    assert [i.request_id for i in found] == ["c", "a", "b"]
    assert [i.payload["uic"] for i in found] == [1000, 1001, 1002]
    assert found[0].status is IntentStatus.FILLED and found[0].order_id == "o-1"


def test_intents_filters_by_status(journal: Journal) -> None:
    for request_id in ("one", "two", "three"):
        _record(journal, request_id, 1)
    journal.mark_intent("one", IntentStatus.FAILED, error="refused")
    journal.mark_intent("three", IntentStatus.UNKNOWN)

    failed_or_unknown = journal.intents([IntentStatus.FAILED, IntentStatus.UNKNOWN])

    assert [i.request_id for i in failed_or_unknown] == ["one", "three"]
    assert journal.intents([IntentStatus.PENDING])[0].request_id == "two"
    assert journal.intents([]) == []


def test_intents_of_an_empty_journal_is_empty(journal: Journal) -> None:
    assert journal.intents() == []
