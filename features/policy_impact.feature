# What an edit of the policy changes, seen before it ships: the example
# scenarios are played under the policy as it is and as edited, and compared.
Feature: Policy impact
  A policy editor who changes a number wants to know what it does to
  members before anyone sees it: which decisions come out differently, and
  who ends up with more or fewer credits. `inmail impact` answers that by
  replaying the same history under both versions of the policy.

  Rule: A bigger allotment helps only members who were running out

    @R10
    Scenario: Career members get 8 credits a month instead of 5
      Given the Career allotment changes from 5 to 8
      When the impact on the example scenarios is computed
      Then 1 decisions change from "denied/no_credits" to "sent"
      And 2 accounts end with more credits
      And 0 accounts end with fewer credits

  Rule: A lower cap takes credits away from members who saved them

    @R11
    Scenario: Business members may hold 30 credits instead of 45
      # the two Business members of the examples hold 44 and 46 (the 46 counts a bought credit,
      # which the cap does not touch): each keeps 15 fewer
      Given the Business cap changes from 45 to 30
      When the impact on the example scenarios is computed
      Then 2 accounts end with fewer credits
      And 0 accounts end with more credits
