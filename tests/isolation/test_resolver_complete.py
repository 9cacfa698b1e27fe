"""Every URL a tenant's key or session reaches is in the isolation matrix, or on a list
that says why it names no object of a tenant's: a new URL fails here until it is placed."""

from tests.isolation.matrix import NO_OBJECT, PUBLIC, QUERY_IDS, by_id_urls, unplaced, urls
from tests.urlwalk import NamedUrl


def test_every_url_is_aimed_at_or_listed_with_a_reason() -> None:
    assert unplaced(urls()) == {}


def test_a_new_url_with_an_unknown_id_or_unlisted_is_refused() -> None:
    new = [
        NamedUrl(name="portal:gadget", namespace="portal", kwargs=("gadget_id",), callback=None),
        NamedUrl(name="api:gadgets", namespace="api", kwargs=(), callback=None),
        NamedUrl(name="portal:run-gadget", namespace="portal", kwargs=("run_id",), callback=None),
    ]
    assert set(unplaced(new)) == {"portal:gadget", "api:gadgets"}


def test_the_matrix_aims_at_the_api_the_portal_and_billings_pages() -> None:
    namespaces = {url.namespace for url in by_id_urls()}
    assert namespaces == {"api", "runflow_compat", "portal", "billing_portal"}
    assert {url.namespace for url in urls() if url.name in NO_OBJECT} >= {"billing_api"}


def test_the_lists_name_only_urls_that_exist_and_fit_them() -> None:
    by_name = {url.name: url for url in urls()}
    assert set(NO_OBJECT) | set(PUBLIC) | set(QUERY_IDS) <= set(by_name)
    assert {name for name in NO_OBJECT if by_name[name].kwargs} == set()
    assert set(NO_OBJECT) & set(PUBLIC) == set()
    assert {name for name in QUERY_IDS if name not in NO_OBJECT} == set()


def test_every_list_entry_says_why() -> None:
    assert {name for name, why in {**NO_OBJECT, **PUBLIC}.items() if len(why) < 10} == set()
