"""The digitization milestone: milestones kept by admins, the burn-up from the audit trail,
the DIG-6 forecast worked out by hand, and the work queue of open findings (DIG-5)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import Period
from registry.kpis.digitization import digitization_kpis
from registry.milestones.findings import open_findings
from registry.milestones.progress import BurnUpWeek
from registry.milestones.progress import burn_up
from registry.milestones.progress import forecast
from registry.milestones.progress import verified_pace
from registry.models import Lease
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

D = Decimal
TODAY = dt.date.today()
UTC = dt.UTC


# --- DIG-6, by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target_date", "days_ahead"),
    [
        (dt.date(2026, 3, 2), 28),  # 40 more at 10 a week: 28 days → 2026-02-02, 4 weeks early
        (dt.date(2026, 1, 26), -7),  # a week late
    ],
)
def test_forecast_at_the_recent_pace(target_date: dt.date, days_ahead: int) -> None:
    got = forecast(
        D(80), target_date, verified=40, parcels=100, pace_per_week=D(10), as_of=dt.date(2026, 1, 5)
    )
    assert (got.target_parcels, got.forecast_date, got.days_ahead) == (
        80,
        dt.date(2026, 2, 2),
        days_ahead,
    )


def test_a_partial_day_of_work_still_takes_the_day() -> None:
    got = forecast(
        D("33.3"),
        dt.date(2026, 6, 1),
        verified=0,
        parcels=10,
        pace_per_week=D(3),
        as_of=dt.date(2026, 1, 1),
    )
    assert got.target_parcels == 4  # ceil(3.33)
    assert got.forecast_date == dt.date(2026, 1, 11)  # ceil(4 × 7 ÷ 3) = 10 days


def test_no_pace_no_forecast_and_a_reached_target_says_so() -> None:
    stalled = forecast(D(50), dt.date(2026, 6, 1), 10, 100, D(0), dt.date(2026, 1, 1))
    assert stalled.forecast_date is None and "no parcels verified" in (stalled.reason or "")
    done = forecast(D(50), dt.date(2026, 1, 11), 60, 100, D(0), dt.date(2026, 1, 1))
    assert (done.forecast_date, done.days_ahead, done.reason) == (
        dt.date(2026, 1, 1),
        10,
        "target already reached",
    )
    empty = forecast(D(50), dt.date(2026, 1, 11), 0, 0, D(1), dt.date(2026, 1, 1))
    assert empty.forecast_date is None and empty.reason == "no parcels in the registry"


# --- burn-up and pace from the audit trail -------------------------------------------------


def _event(
    session: Session,
    parcel_id: str,
    when: dt.datetime,
    status: str,
    verified_at: dt.datetime | None = None,
) -> None:
    """An audited edit of a parcel's digitization status, shaped as the audit trigger writes
    it (the parcel's row id in `after`, the changed fields named), since DIG-6 reads those."""
    session.execute(
        text(
            "INSERT INTO audit_events (occurred_at, actor, table_name, row_key, action, "
            "changed_fields, after) "
            "VALUES (:when, 'tests', 'parcels', :id, 'UPDATE', "
            "ARRAY['digitization_status', 'verified_at'], jsonb_build_object("
            "'id', (SELECT id FROM parcels WHERE parcel_id = :id), "
            "'digitization_status', CAST(:status AS text), 'verified_at', CAST(:verified AS text)))"
        ),
        {
            "when": when,
            "id": parcel_id,
            "status": status,
            "verified": verified_at.isoformat() if verified_at else None,
        },
    )


def test_burn_up_counts_parcels_reaching_each_state_per_week(db_session: Session) -> None:
    db_session.add_all(
        [
            parcel("A-1", geometry=square(-118.30)),
            parcel("B-1", geometry=square(-118.20)),
            parcel("C-1", geometry=square(-118.10), retired_at=dt.datetime(2025, 1, 1, tzinfo=UTC)),
        ]
    )
    db_session.flush()
    _event(db_session, "A-1", dt.datetime(2026, 1, 5, 9, tzinfo=UTC), "digitized")  # Monday
    _event(db_session, "A-1", dt.datetime(2026, 1, 14, 9, tzinfo=UTC), "verified")
    _event(db_session, "A-1", dt.datetime(2026, 1, 15, 9, tzinfo=UTC), "attributed")  # revoked
    _event(db_session, "B-1", dt.datetime(2026, 1, 6, 9, tzinfo=UTC), "paper")
    _event(db_session, "B-1", dt.datetime(2026, 1, 20, 9, tzinfo=UTC), "attributed")
    _event(db_session, "C-1", dt.datetime(2026, 1, 5, 9, tzinfo=UTC), "verified")  # retired
    # keyed in on 3 February, verified on 28 January: counts from the 28th
    _event(
        db_session,
        "B-1",
        dt.datetime(2026, 2, 3, 9, tzinfo=UTC),
        "verified",
        verified_at=dt.datetime(2026, 1, 28, 15, tzinfo=UTC),
    )

    assert burn_up(db_session, dt.date(2026, 1, 31)) == [
        BurnUpWeek(dt.date(2026, 1, 5), 1, 0),
        BurnUpWeek(dt.date(2026, 1, 12), 1, 1),
        BurnUpWeek(dt.date(2026, 1, 19), 2, 1),
        BurnUpWeek(dt.date(2026, 1, 26), 2, 2),  # no gaps up to the as-of week
    ]
    assert burn_up(db_session, dt.date(2026, 1, 13))[-1] == BurnUpWeek(dt.date(2026, 1, 12), 1, 0)
    # DIG-6's pace is the net gain in DIG-2: A-1's verification of 14 January was revoked the
    # next day (and carried no verified_at), so only B-1 counts
    assert verified_pace(db_session, dt.date(2026, 1, 31)) == D(1) / 8
    assert verified_pace(db_session, dt.date(2026, 3, 12)) == D(1) / 8  # 14 Jan is too early


# --- the work queue is DIG-5 record by record --------------------------------------------


def test_findings_are_dig5_one_row_per_finding(db_session: Session) -> None:
    gsd = department("GSD", "General Services")
    db_session.add(gsd)
    db_session.add_all(
        [
            parcel(
                "P-1",
                department=gsd,
                council_district=1,
                use=None,
                legal_interest="owned",
                status="in_use",
                geometry=square(-118.300),
            ),  # use missing
            parcel(
                "P-2",
                department=gsd,
                council_district=2,
                use="Office",
                legal_interest="owned",
                status="in_use",
                geometry=square(-118.2000),
            ),
            parcel(
                "P-3",
                department=gsd,
                council_district=2,
                use="Office",
                legal_interest="owned",
                status="in_use",
                geometry=square(-118.1995),
            ),  # overlaps P-2
            parcel(
                "P-4",
                department=gsd,
                council_district=3,
                use="Office",
                legal_interest="owned",
                status="in_use",
                geometry=square(-118.1000),
            ),
            parcel(
                "P-5",
                department=gsd,
                council_district=3,
                use="Office",
                legal_interest="owned",
                status="in_use",
                geometry=square(-118.0995),
                overlap_accepted_reason="shared easement",
            ),  # accepted: none
        ]
    )
    db_session.flush()
    db_session.add(
        Lease(
            lease_number="L-9",
            direction="in",
            portfolio="payable",
            counterparty="Acme",
            parcel_id=db_session.execute(
                text("SELECT id FROM parcels WHERE parcel_id = 'P-4'")
            ).scalar_one(),
            leased_area_sq_ft=D(100),
            commencement_date=dt.date(2026, 1, 1),
            term_months=12,
            max_possible_term_months=12,
            payment_frequency="monthly",
            payment_timing="advance",
            payments=[{"periods": 12, "amount": "10.00"}],
            terminated_on=dt.date(2025, 12, 1),
        )
    )
    db_session.flush()

    page = open_findings(db_session)
    got = {(f.kind, f.parcel_id, f.lease_number) for f in page.findings}
    assert got == {
        ("missing field", "P-1", None),
        ("overlap", "P-2", None),
        ("overlap", "P-3", None),
        ("lease ends before it starts", "P-4", "L-9"),
    }
    dig5 = {
        (v.breakdown, v.breakdown_value): v.value
        for v in digitization_kpis(db_session, Period.resolve(None, TODAY))
        if v.kpi_id == "DIG-5"
    }
    assert page.total == dig5[("city", None)] == 4
    assert open_findings(db_session, district=2).total == dig5[("council_district", "2")] == 2
    assert open_findings(db_session, department="GSD", limit=1).total == 4
    assert len(open_findings(db_session, limit=1).findings) == 1


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def portfolio_app(app: Flask) -> Flask:
    """Three GSD parcels, one verified yesterday (so the pace is 1 in 8 weeks), one with no
    use recorded (a finding)."""
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        gsd = department("GSD", "General Services")
        common = {
            "department": gsd,
            "legal_interest": "owned",
            "status": "in_use",
            "council_district": 4,
        }
        session.add_all(
            [
                parcel(
                    "M-1",
                    use="Office",
                    geometry=square(-118.3),
                    digitization_status="verified",
                    verified_by="second",
                    verified_at=dt.datetime.combine(
                        TODAY - dt.timedelta(days=1), dt.time(12), tzinfo=UTC
                    ),
                    **common,
                ),
                parcel("M-2", use="Office", geometry=square(-118.2), **common),
                parcel("M-3", use=None, geometry=square(-118.1), **common),
            ]
        )
    return app


@pytest.fixture
def admin(portfolio_app: Flask, signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    return signed_in("admin", "ada@city.example")


def _add(client: SignedInClient, name: str, pct: str, when: dt.date) -> str:
    response = client.post(
        "/milestone/milestones",
        data={
            "csrf_token": client.csrf_token,
            "name": name,
            "target_pct_verified": pct,
            "target_date": when.isoformat(),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_admin_adds_a_milestone_and_sees_the_forecast(
    portfolio_app: Flask, admin: SignedInClient
) -> None:
    page = _add(admin, "All verified", "100", TODAY + dt.timedelta(days=365))
    assert "Saved milestone All verified." in page
    # 2 more to verify at 1 per 8 weeks: ceil(2 × 7 × 8) = 112 days, 253 days ahead
    assert (TODAY + dt.timedelta(days=112)).isoformat() in page
    ahead = f"253 days ahead of the target date {(TODAY + dt.timedelta(days=365)).isoformat()}"
    assert ahead in _words(page)
    assert 'data-series="Verified"' in page and 'data-series="Target: All verified"' in page
    assert 'data-series="Forecast at recent pace"' in page
    with portfolio_app.app_context(), session_factory()() as session:
        actor = session.execute(
            text(
                "SELECT actor FROM audit_events WHERE table_name = 'milestones' "
                "AND row_key = 'All verified' AND action = 'INSERT'"
            )
        ).scalar_one()
    assert actor == "ada@city.example"


def _words(page: str) -> str:
    """The page's text as read: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_milestone_missed_at_this_pace_is_days_behind(admin: SignedInClient) -> None:
    page = _add(admin, "Soon", "100", TODAY + dt.timedelta(days=12))
    assert "100 days behind" in page


def test_an_admin_changes_and_deletes_a_milestone(admin: SignedInClient) -> None:
    _add(admin, "First", "50", TODAY + dt.timedelta(days=30))
    page = admin.post(
        "/milestone/milestones/1",
        data={
            "csrf_token": admin.csrf_token,
            "name": "Renamed",
            "target_pct_verified": "75.5",
            "target_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Renamed: 75.50 % of parcels verified" in page
    page = admin.post(
        "/milestone/milestones/1/delete",
        data={"csrf_token": admin.csrf_token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "No milestone set yet" in page
    assert (
        admin.post(
            "/milestone/milestones/1/delete", data={"csrf_token": admin.csrf_token}
        ).status_code
        == 404
    )


def test_every_problem_with_a_milestone_is_reported(admin: SignedInClient) -> None:
    _add(admin, "Taken", "50", TODAY)

    def refused(name: str, pct: str) -> str:
        form = {"name": name, "target_pct_verified": pct, "target_date": "2026-01-01"}
        response = admin.post(
            "/milestone/milestones", data={"csrf_token": admin.csrf_token, **form}
        )
        assert response.status_code == 422
        return response.get_data(as_text=True).replace("&#39;", "'")

    assert "Name: a milestone named 'Taken' exists already" in refused("Taken", "120")
    page = refused("", "abc")
    assert (
        "Name: is required" in page and "Target % of parcels verified: must be a percentage" in page
    )


def test_a_forecast_far_behind_reads_as_days_behind_the_target_date_with_separators(
    admin: SignedInClient,
) -> None:
    target = TODAY - dt.timedelta(days=1000)  # forecast 112 days from today: 1,112 days late
    page = _add(admin, "Long missed", "100", target)
    assert f"1,112 days behind the target date {target.isoformat()}" in _words(page)
    assert "behind of" not in page and "ahead of" not in page


def _refused(response: object, field: str) -> str:
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert field not in page.split('id="milestone-problems"')[1].split("</div>")[0]
    return page


@pytest.mark.parametrize("pct", ["150", "75,5"])
def test_a_refused_milestone_is_named_by_its_labels_and_keeps_what_was_typed(
    admin: SignedInClient, pct: str
) -> None:
    form = {"csrf_token": admin.csrf_token, "name": "Most of it", "target_date": "2027-06-30"}
    page = _refused(
        admin.post("/milestone/milestones", data={**form, "target_pct_verified": pct}),
        "target_pct_verified",
    )
    assert "Target % of parcels verified: must be a percentage from 0 to 100" in page
    assert 'id="m-name" name="name" value="Most of it"' in page
    assert f'name="target_pct_verified" value="{pct}"' in page
    assert 'id="m-date" name="target_date" type="date" value="2027-06-30"' in page
    _add(admin, "Kept", "50", TODAY + dt.timedelta(days=30))
    page = _refused(
        admin.post(
            "/milestone/milestones/1",
            data={**form, "name": "Kept, renamed", "target_pct_verified": pct},
        ),
        "target_pct_verified",
    )
    assert 'name="name" value="Kept, renamed"' in page  # the row's form, as typed
    assert 'id="m-name" name="name" value=""' in page  # the new-milestone form untouched


def test_only_admins_keep_milestones_and_a_form_needs_its_csrf_token(
    portfolio_app: Flask, admin: SignedInClient, signed_in: Callable[..., SignedInClient]
) -> None:
    form = {"name": "X", "target_pct_verified": "10", "target_date": "2027-01-01"}
    editor = signed_in("editor")
    assert (
        editor.post(
            "/milestone/milestones", data={**form, "csrf_token": editor.csrf_token}
        ).status_code
        == 403
    )
    admin.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert admin.post("/milestone/milestones", data=form).status_code in {400, 403}
    assert "No milestones." in editor.get("/milestone").get_data(as_text=True)
    assert 'id="new-milestone"' not in editor.get("/milestone").get_data(as_text=True)


def test_progress_by_department_and_findings_linking_to_the_parcel(
    admin: SignedInClient,
) -> None:
    page = admin.get("/milestone").get_data(as_text=True)
    departments = page[page.index('class="listing departments"') :]
    assert '<td>General Services <span class="code">(GSD)</span></td><td class="num">3</td>' in (
        departments
    )
    assert "33.33 %" in departments
    findings = page[page.index('class="listing findings"') :]
    assert '<a href="/parcels/M-3">M-3</a>' in findings and "use is missing" in findings
    assert "Open data-quality findings (DIG-5): 1" in page
    assert "No open findings." in admin.get("/milestone?district=9").get_data(as_text=True)


def test_a_verification_keyed_in_later_with_an_earlier_date_is_the_state_now(
    db_session: Session,
) -> None:
    """What the sample loader (and any import that verifies after inserting) records: the
    parcel first entered unverified, then its verification keyed in with last year's date. It
    is verified now and was verified at the pace's start: no gain, and never a negative pace."""
    db_session.add(parcel("K-1", geometry=square(-118.30)))
    db_session.flush()
    _event(db_session, "K-1", dt.datetime(2026, 2, 10, 9, tzinfo=UTC), "attributed")
    _event(
        db_session,
        "K-1",
        dt.datetime(2026, 2, 11, 9, tzinfo=UTC),
        "verified",
        verified_at=dt.datetime(2025, 12, 1, 9, tzinfo=UTC),
    )
    assert verified_pace(db_session, dt.date(2026, 3, 1)) == 0
    # and when the keyed-in date falls inside the window, it is a gain
    assert verified_pace(db_session, dt.date(2026, 1, 20)) == D(1) / 8


def test_a_falling_count_of_verified_parcels_is_said_with_the_same_pace() -> None:
    falling = forecast(D(50), dt.date(2026, 6, 1), 10, 100, D(-2), dt.date(2026, 1, 1))
    assert falling.forecast_date is None and falling.pace_per_week == D(-2)
    assert "verified parcels fell by 16" in (falling.reason or "")


def test_the_sample_programme_is_drawn_as_it_happened_with_one_pace_and_its_forecast(
    sample_app: Flask, auth: LoginHelper
) -> None:
    """The sample's records were digitized over two years and verified over the year before
    go-live: the burn-up rises week by week (no jump on the day the sample was loaded), the
    pace is positive, and the page says the same pace its forecast is made from."""
    with sample_app.app_context(), session_factory()() as session:
        weeks = burn_up(session, TODAY)
        pace = verified_pace(session, TODAY)
    assert weeks[0].week < dt.date(2024, 10, 7) and weeks[0].digitized < 50
    rises = sum(1 for a, b in itertools.pairwise(weeks) if b.digitized > a.digitized)
    assert rises > 52
    assert max(b.digitized - a.digitized for a, b in itertools.pairwise(weeks)) < 100
    assert pace > 0
    admin = auth.signed_in_client(sample_app, "admin", "milestone-admin@city.example")
    html = admin.get("/milestone").get_data(as_text=True)
    assert f"{pace:,.1f} parcels verified a week" in html
    assert "no pace" not in html and "fell by" not in html
    assert "DIG-6 forecast:" in html and ("days behind" in html or "days ahead" in html)
    assert 'data-series="Target date 2026-12-31"' in html  # the target date marked
    assert "General Services" in html  # departments by name, not only by code
    # deleting asks first: the button that deletes is behind "Delete…"
    assert "<summary>Delete…</summary>" in html
    assert "Yes, delete “Half of the portfolio verified”" in html


def test_a_finding_is_assigned_then_closed_with_a_note_and_leaves_dig5(
    portfolio_app: Flask, admin: SignedInClient, signed_in: Callable[..., SignedInClient]
) -> None:
    """M-3 has no use: one finding. An editor assigns it to herself, closes it saying why; it
    leaves the queue and DIG-5, both audited; reopened, it counts again. A viewer cannot."""
    editor = signed_in("editor", "eve@city.example")
    page = editor.get("/milestone").get_data(as_text=True)
    assert "Open data-quality findings (DIG-5): 1" in page
    key = re.search(r"/milestone/findings/([0-9a-f]{32})/assign", page)
    assert key is not None
    finding = key.group(1)
    editor.post(f"/milestone/findings/{finding}/assign", data={"assignee": "me"})
    mine = editor.get("/milestone?assigned=me").get_data(as_text=True)
    assert "Open data-quality findings (DIG-5): 1" in mine and "eve@city.example" in mine
    assert "(DIG-5): 0" in editor.get("/milestone?assigned=nobody").get_data(as_text=True)

    refused = editor.post(
        f"/milestone/findings/{finding}/close", data={"note": "  "}, follow_redirects=True
    )
    assert "Say why the finding is closed" in refused.get_data(as_text=True)
    closed = editor.post(
        f"/milestone/findings/{finding}/close",
        data={"note": "Vacant lot held for the library: no use by design"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Open data-quality findings (DIG-5): 0" in closed
    assert "Vacant lot held for the library: no use by design" in closed  # the closed list
    with portfolio_app.app_context(), session_factory()() as session:
        values = digitization_kpis(session, Period.resolve(None, TODAY))
        dig5 = {(v.breakdown, v.breakdown_value): v.value for v in values if v.kpi_id == "DIG-5"}
        trail = session.execute(
            text(
                "SELECT actor, action FROM audit_events WHERE table_name = 'finding_reviews' "
                "ORDER BY id"
            )
        ).all()
    assert dig5[("city", None)] == 0 and dig5[("department", "GSD")] == 0
    assert [tuple(row) for row in trail] == [
        ("eve@city.example", "INSERT"),
        ("eve@city.example", "UPDATE"),
        ("eve@city.example", "UPDATE"),
    ]
    editor.post(f"/milestone/findings/{finding}/reopen")
    assert "(DIG-5): 1" in editor.get("/milestone").get_data(as_text=True)
    viewer = signed_in("viewer", "vic@city.example")
    assert (
        viewer.post(f"/milestone/findings/{finding}/close", data={"note": "x"}).status_code == 403
    )
    assert "Assign to me" not in viewer.get("/milestone").get_data(as_text=True)
    gone = editor.post(
        "/milestone/findings/" + "0" * 32 + "/close", data={"note": "x"}, follow_redirects=True
    )
    assert "Not changed: " in gone.get_data(as_text=True)
