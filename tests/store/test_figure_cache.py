"""The slow figures: what `figures_of` reads again, and how long the cache keeps them."""

from __future__ import annotations

from store.campaigns import create_campaign
from store.figure_cache import SlowFigureCache
from store.figures import Conversion, SlowFigures, figures_of
from store.models import Campaign


def campaigns(*states: str) -> list[Campaign]:
    found = []
    for state in states:
        campaign = create_campaign(channel="email", name=state, sender="Centro", body="Hi")
        Campaign.update(state=state).where(Campaign.id == campaign.id).execute()
        found.append(Campaign.get_by_id(campaign.id))
    return found


def test_known_slow_figures_are_not_read_again(sqlite_store):
    sent, draft = campaigns("sent", "draft")
    known = SlowFigures(Conversion(7, 3), machine_opened=2, unsubscribed=1)
    one, two = figures_of([sent, draft], known={sent.id: known})
    assert one.slow == known and one.conversion.rate == 0.4286 and one.opens.machine_opened == 2
    assert two.slow == SlowFigures()


def test_slow_figures_stay_fresh_for_their_time_then_are_read_again(sqlite_store):
    sent, sending = figures_of(campaigns("sent", "sending"))
    cache = SlowFigureCache(30, keep_live=False)
    cache.keep([sent, sending], read_at=100)
    assert cache.fresh(129.9) == {sent.id: sent.slow}  # a campaign going out is read every time
    cache.keep([sent], read_at=120)  # given to that read, not read by it: its age runs on
    assert cache.fresh(130) == {}
    cache.keep([sent], read_at=130)
    assert sent.id in cache.fresh(159)
    cache.invalidate()  # F5
    assert cache.fresh(131) == {}


def test_the_details_read_them_every_fifth_round_even_while_it_goes_out(sqlite_store):
    (sending,) = figures_of(campaigns("sending"))
    cache = SlowFigureCache(5, keep_live=True)
    reads = []
    for round_ in range(11):
        if sending.id not in cache.fresh(round_):
            reads.append(round_)
            cache.keep([sending], read_at=round_)
    assert reads == [0, 5, 10]
