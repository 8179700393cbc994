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
// granted again; another agent's claim of the same slot and device is
// refused, while other slots and devices are free.
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
