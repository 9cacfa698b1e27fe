"""The usage page's banner: this month's cap notices (billing.cap_notices), worded."""

from dataclasses import dataclass

from billing.cap_notices import spend_percent
from billing.models import CapNotice
from billing.portal.services import end_user_labels
from billing.selectors import cap_notices_this_period
from seedance.models import Tenant


@dataclass(frozen=True)
class CapBanner:
    """One cap's highest notice this month, as the usage page words it."""

    notice: CapNotice
    label: str
    percent: int

    @property
    def reached(self) -> bool:
        return self.notice.threshold == CapNotice.Threshold.REACHED


def cap_banners(*, tenant: Tenant, end_user_id: str | None) -> list[CapBanner]:
    """The tenant's cap notices of this month (admins), or one end user's (``end_user_id``)."""
    notices = cap_notices_this_period(tenant=tenant, end_user_id=end_user_id)
    labels = end_user_labels(tenant=tenant, end_user_ids=[n.end_user_id for n in notices])
    return [
        CapBanner(
            notice=notice,
            label=_whose(notice, own=end_user_id is not None, labels=labels),
            percent=spend_percent(notice),
        )
        for notice in sorted(notices, key=lambda n: (-n.threshold, n.kind != "tenant"))
    ]


def _whose(notice: CapNotice, *, own: bool, labels: dict[str, str]) -> str:
    if not notice.end_user_id:
        return "The tenant's"
    return "Your" if own else f"End user {labels[notice.end_user_id]}'s"
