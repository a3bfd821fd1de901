"""What a user types into a search matches itself: `%` `_` and `\\` are no wildcards (issue 13).

The details screen's recipient search runs in the database (LIKE / ILIKE), so it is tested on both
engines; the summary's name filter and the contact picker filter in memory, and stay literal too.
"""

from datetime import date

import pytest

from store.campaign_detail import recipients_page
from store.campaigns import campaign_listing, create_campaign
from store.directory import Directory, Entry
from store.period import Period
from store.recipients import add_from_csv

PEOPLE = (
    "first_name,last_name,email\n"
    "Anna_Maria,Rossi,a_b@example.org\n"
    "AnnaXMaria,Verdi,axb@example.org\n"
    "Sconto,100%,sconto100@example.org\n"
    "Sconto,1000,sconto1000@example.org\n"
    "Back\\slash,Neri,back@example.org\n"
    "Luca,Bianchi,50%off@example.org\n"
)


@pytest.fixture
def campaign(store, write_csv):
    draft = create_campaign(channel="email", name="Search", sender="Centro Medico", body="Ciao")
    assert add_from_csv(draft.id, write_csv("people.csv", PEOPLE)).added == 6
    return draft.id


def found(campaign_id, search):
    page = recipients_page(campaign_id, search=search)
    assert page.matching == len(page.rows)
    return sorted(row.address for row in page.rows)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("_", ["a_b@example.org"]),
        ("a_b", ["a_b@example.org"]),
        ("%", ["50%off@example.org", "sconto100@example.org"]),
        ("100%", ["sconto100@example.org"]),
        ("50%OFF", ["50%off@example.org"]),  # still blind to case
        ("\\", ["back@example.org"]),
        ("%%", []),
        ("anna", ["a_b@example.org", "axb@example.org"]),
    ],
)
def test_the_recipient_search_takes_wildcards_literally(campaign, typed, expected):
    assert found(campaign, typed) == expected


def test_the_summary_name_filter_takes_wildcards_literally(store):
    for name in ("Sconto 50% estate", "Sconto 500 estate", "check_up", "checkXup"):
        create_campaign(channel="sms", name=name, sender="Centro", body="Ciao")
    period = Period.last_days(today=date.today())

    def names(typed):
        ids, _total = campaign_listing(period, typed)
        return len(ids)

    assert (names("%"), names("50%"), names("_"), names("check_up"), names("")) == (1, 1, 1, 1, 4)


def test_the_contact_picker_filter_takes_wildcards_literally():
    directory = Directory(
        [
            Entry(1, "patient", "Anna_Maria", "Rossi", "a_b@example.org", "", False, True),
            Entry(2, "patient", "AnnaXMaria", "Rossi", "axb@example.org", "", False, True),
            Entry(3, "patient", "Sconto", "100%", "", "", False, True),
        ]
    )
    assert directory.search("_") == [0]
    assert directory.search("%") == [2]
    assert directory.search("anna_") == [0]
