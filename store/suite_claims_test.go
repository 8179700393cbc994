package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// claimsSuite is the contract of ClaimStore.
func claimsSuite() []suiteTest {
	return []suiteTest{
		{"ClaimPollOncePerSlot", suiteClaimPollOnce},
	}
}

// suiteClaimPollOnce: within one store (one agent) a claim is granted and
// granted again, and concurrent claims of one agent all see their own.
// Another agent's claim being refused is raceClaims, run by each engine's
// two-agent test (they open a second store on the same database).
func suiteClaimPollOnce(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	slot := base.Truncate(time.Second)
	claim := func(st Store, slot time.Time, dev string) bool {
		t.Helper()
		ok, err := st.ClaimPoll(ctx, slot, dev)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim(st, slot, "mx1") {
		t.Fatal("first claim refused")
	}
	if again := claim(st, slot, "mx1"); !again {
		t.Fatal("the same agent's repeated claim refused")
	}
	// Concurrent claimers in one agent: every one sees its own claim.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if ok, err := st.ClaimPoll(ctx, slot, fmt.Sprintf("mx%d", 10+i%4)); err != nil || !ok {
				t.Errorf("concurrent claim: %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
	if _, err := st.ClaimPoll(ctx, time.Time{}, "mx1"); err == nil {
		t.Error("a claim without a slot was accepted")
	}
}

// raceClaims has two agents on one database race for the same 200
// devices of a slot: each device must go to exactly one of them, and the
// next slot is free again.
func raceClaims(t *testing.T, a, b Store) {
	t.Helper()
	ctx := context.Background()
	slot := base.Truncate(time.Second)
	const n = 200
	won := [2]map[string]bool{{}, {}}
	var wg sync.WaitGroup
	for i, st := range []Store{a, b} {
		wg.Go(func() {
			for d := range n {
				dev := fmt.Sprintf("mx%03d", d)
				ok, err := st.ClaimPoll(ctx, slot, dev)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won[i][dev] = true
				}
			}
		})
	}
	wg.Wait()
	for d := range n {
		dev := fmt.Sprintf("mx%03d", d)
		if won[0][dev] == won[1][dev] {
			t.Errorf("%s: claimed by agent a %v and b %v, want exactly one", dev, won[0][dev], won[1][dev])
		}
	}
	if ok, err := b.ClaimPoll(ctx, slot.Add(10*time.Second), "mx000"); err != nil || !ok {
		t.Errorf("next slot: %v, %v", ok, err)
	}
}
