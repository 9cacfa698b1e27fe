"""Every URL a tenant's key or session reaches is in the isolation matrix, or on a list
that says why it names no object of a tenant's: a new URL fails here until it is placed."""

from tests.isolation.matrix import KWARG_IDS, NO_OBJECT, PUBLIC, QUERY_IDS, urls


def test_every_url_kwarg_names_an_object_the_matrix_can_aim_at() -> None:
    unmapped = {
        url.name: sorted(set(url.kwargs) - set(KWARG_IDS))
        for url in urls()
        if url.name not in PUBLIC and set(url.kwargs) - set(KWARG_IDS)
    }
    assert unmapped == {}


def test_every_url_without_an_id_is_listed_as_a_tenants_own_page_or_public() -> None:
    unlisted = {url.name for url in urls() if not url.kwargs} - set(NO_OBJECT) - set(PUBLIC)
    assert unlisted == set()


def test_the_lists_name_only_urls_that_exist_and_fit_them() -> None:
    by_name = {url.name: url for url in urls()}
    assert set(NO_OBJECT) | set(PUBLIC) | set(QUERY_IDS) <= set(by_name)
    assert {name for name in NO_OBJECT if by_name[name].kwargs} == set()
    assert set(NO_OBJECT) & set(PUBLIC) == set()
    assert {name for name in QUERY_IDS if name not in NO_OBJECT} == set()


def test_every_list_entry_says_why() -> None:
    assert {name for name, why in {**NO_OBJECT, **PUBLIC}.items() if len(why) < 10} == set()
