// rss/replica_placement: redundancy values, and where the copies of each rank's piece go.
#include "rss/replica_placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace srs {
namespace {

using ::testing::HasSubstr;

PlacementDepot D(const std::string& id, const std::string& domain) {
  return {id, id + ":7000", domain};
}

TEST(Redundancy, ParsesTheThreeForms) {
  EXPECT_EQ(*CopiesForRedundancy(""), 1);
  EXPECT_EQ(*CopiesForRedundancy("none"), 1);
  EXPECT_EQ(*CopiesForRedundancy("partner"), 2);
  EXPECT_EQ(*CopiesForRedundancy("replicas:1"), 1);
  EXPECT_EQ(*CopiesForRedundancy("replicas:8"), 8);
  EXPECT_EQ(NormalizeRedundancy(""), "none");
  EXPECT_EQ(NormalizeRedundancy("replicas:1"), "none");
  EXPECT_EQ(NormalizeRedundancy("replicas:3"), "replicas:3");
  EXPECT_EQ(NormalizeRedundancy("partner"), "partner");
}

TEST(Redundancy, RefusesEverythingElse) {
  for (const char* bad : {"replicas:0", "replicas:9", "replicas:", "replicas:x", "replicas:-1",
                          "Partner", "xor", "replicas:2 ", "mirror"}) {
    absl::StatusOr<int> copies = CopiesForRedundancy(bad);
    ASSERT_FALSE(copies.ok()) << bad;
    EXPECT_EQ(copies.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(copies.status().message(), HasSubstr("replicas:K")) << bad;
  }
}

TEST(PlaceReplicas, NoRedundancyMeansNoTargets) {
  auto targets = PlaceReplicas({D("a", "hA"), D("a", "hA")}, {D("a", "hA")}, 1);
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_TRUE((*targets)[0].empty());
  EXPECT_TRUE((*targets)[1].empty());
}

TEST(PlaceReplicas, PartnerIsTheNextDomainOfTheRing) {
  std::vector<PlacementDepot> live = {D("c", "hC"), D("a", "hA"), D("b", "hB")};
  auto targets = PlaceReplicas({D("a", "hA"), D("b", "hB"), D("c", "hC")}, live, 2);
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_EQ((*targets)[0][0].id, "b");
  EXPECT_EQ((*targets)[1][0].id, "c");
  EXPECT_EQ((*targets)[2][0].id, "a");  // the ring wraps
}

TEST(PlaceReplicas, ReplicasAreInDistinctOtherDomains) {
  std::vector<PlacementDepot> live = {D("a", "hA"), D("b", "hB"), D("c", "hC"), D("d", "hD")};
  std::vector<PlacementDepot> own = {D("a", "hA"), D("b", "hB"), D("c", "hC"), D("d", "hD"),
                                     D("a", "hA")};
  auto targets = PlaceReplicas(own, live, 3);
  ASSERT_TRUE(targets.ok()) << targets.status();
  for (size_t r = 0; r < own.size(); ++r) {
    ASSERT_EQ((*targets)[r].size(), 2u);
    std::set<std::string> domains = {own[r].failure_domain};
    for (const PlacementDepot& t : (*targets)[r]) {
      EXPECT_TRUE(domains.insert(t.failure_domain).second) << "rank " << r << " reuses a domain";
    }
  }
  EXPECT_EQ((*targets)[3][0].id, "a");  // hD -> hA, hB
  EXPECT_EQ((*targets)[3][1].id, "b");
}

TEST(PlaceReplicas, SpreadsRanksOverTheDepotsOfADomain) {
  // Four ranks on host A, two depots on host B: the copies alternate between them.
  std::vector<PlacementDepot> live = {D("a", "hA"), D("b2", "hB"), D("b1", "hB")};
  std::vector<PlacementDepot> own(4, D("a", "hA"));
  auto targets = PlaceReplicas(own, live, 2);
  ASSERT_TRUE(targets.ok()) << targets.status();
  std::map<std::string, int> count;
  for (const auto& t : *targets) ++count[t.at(0).id];
  EXPECT_EQ(count["b1"], 2);
  EXPECT_EQ(count["b2"], 2);
}

TEST(PlaceReplicas, SkipsDomainsWithoutALiveDepot) {
  // hB's depot is down (not live): rank 0 on hA gets hC, outside the job; rank 1 (on hB) gets
  // the job's other domain, hA, first.
  std::vector<PlacementDepot> live = {D("a", "hA"), D("c", "hC")};
  auto targets = PlaceReplicas({D("a", "hA"), D("b", "hB")}, live, 2);
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_EQ((*targets)[0][0].id, "c");
  EXPECT_EQ((*targets)[1][0].id, "a");
}

TEST(PlaceReplicas, PartnersStayInsideTheJobsDomainsFirst) {
  // Five hosts with live depots, a job on hosts 1 and 2: each is the other's partner (SCR's
  // PARTNER set is the job's nodes), none of the job's copies lands on hosts 3..5.
  std::vector<PlacementDepot> live = {D("d1", "n1"), D("d2", "n2"), D("d3", "n3"), D("d4", "n4"),
                                      D("d5", "n5")};
  auto targets = PlaceReplicas({D("d1", "n1"), D("d2", "n2")}, live, 2);
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_EQ((*targets)[0][0].id, "d2");
  EXPECT_EQ((*targets)[1][0].id, "d1");
  // Three copies from a two-host job: the job's other host, then one outside it.
  targets = PlaceReplicas({D("d1", "n1"), D("d2", "n2")}, live, 3);
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_EQ((*targets)[0][0].id, "d2");
  EXPECT_EQ((*targets)[1][0].id, "d1");
  EXPECT_NE((*targets)[0][1].failure_domain, "n1");
  EXPECT_NE((*targets)[0][1].failure_domain, "n2");
}

TEST(PlaceReplicas, TooFewDomainsIsAClearFailedPrecondition) {
  std::vector<PlacementDepot> live = {D("a1", "hA"), D("a2", "hA")};
  auto targets = PlaceReplicas({D("a1", "hA")}, live, 2);
  ASSERT_FALSE(targets.ok());
  EXPECT_EQ(targets.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(targets.status().message(), HasSubstr("2 different failure domains"));
  EXPECT_THAT(targets.status().message(), HasSubstr("hA (a1, a2)"));
  targets = PlaceReplicas({D("a", "hA")}, {D("a", "hA"), D("b", "hB")}, 3);
  ASSERT_FALSE(targets.ok());
  EXPECT_THAT(targets.status().message(), HasSubstr("only 1 other domain"));
  EXPECT_FALSE(PlaceReplicas({D("a", "hA")}, {D("a", "hA")}, 9).ok());
}

}  // namespace
}  // namespace srs
