// Page parameters, keyset scan directions and next/prev links.
#include "core/pagination.hpp"

#include <catch2/catch.hpp>

using namespace latchkey;
using namespace latchkey::core;

namespace {

struct Row {
    Id id;
};

Request withQuery(std::vector<std::pair<std::string, std::string>> query) {
    Request r;
    r.query = std::move(query);
    return r;
}

std::string page(const PageParams& params, const std::vector<Id>& ids) {
    std::vector<Row> rows;
    for (Id id : ids)
        rows.push_back({id});
    return renderPage<Row>(params, rows, "/v1.1/x/",
                           [](JsonWriter& out, const Row& r) { out.value(r.id); });
}

} // namespace

TEST_CASE("Page parameters are validated", "[pagination]") {
    CHECK(readPageParams(withQuery({})).size == kMaxPageSize);
    CHECK(readPageParams(withQuery({{"page_size", "5"}})).size == 5);
    CHECK_THROWS_AS(readPageParams(withQuery({{"page_size", "101"}})), HttpError);
    CHECK_THROWS_AS(readPageParams(withQuery({{"page_size", "0"}})), HttpError);
    CHECK_THROWS_AS(readPageParams(withQuery({{"page_size", "ten"}})), HttpError);
    CHECK_THROWS_AS(readPageParams(withQuery({{"ordering", "sideways"}})), HttpError);
    CHECK_THROWS_AS(readPageParams(withQuery({{"direction", "2"}})), HttpError);
    CHECK_THROWS_AS(readPageParams(withQuery({{"last_pk", "-4"}})), HttpError);
}

TEST_CASE("The scan direction follows ordering and direction", "[pagination]") {
    PageParams p;
    p.size = 2;
    CHECK(p.scan().ascending);
    CHECK(p.scan().limit == 3);
    p.backward = true;
    CHECK_FALSE(p.scan().ascending);
    p.descending = true;
    CHECK(p.scan().ascending);
    p.backward = false;
    CHECK_FALSE(p.scan().ascending);
}

TEST_CASE("Pages link forward and back with last_pk", "[pagination]") {
    PageParams first;
    first.size = 2;
    CHECK(
        page(first, {1, 2, 3}) ==
        R"({"objects": [1, 2], "next": "/v1.1/x/?direction=1&last_pk=2&page_size=2", "prev": null})");
    PageParams second = first;
    second.lastPk = 2;
    CHECK(
        page(second, {3}) ==
        R"({"objects": [3], "next": null, "prev": "/v1.1/x/?direction=0&last_pk=3&page_size=2"})");
    PageParams back = first;
    back.lastPk = 3;
    back.backward = true;
    // A backward scan reads 2, 1 (descending) and shows them in list order.
    CHECK(
        page(back, {2, 1}) ==
        R"({"objects": [1, 2], "next": "/v1.1/x/?direction=1&last_pk=2&page_size=2", "prev": null})");
    PageParams desc = first;
    desc.descending = true;
    CHECK(
        page(desc, {9, 8, 7}) ==
        R"({"objects": [9, 8], "next": "/v1.1/x/?direction=1&last_pk=8&page_size=2&ordering=desc", "prev": null})");
}
