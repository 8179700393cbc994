package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/readiness"
)

// readinessSuite is the contract of the stored switchover readiness
// verdicts (issue 16).
func readinessSuite() []suiteTest {
	return []suiteTest{
		{"ReadinessRoundTrip", suiteReadinessRoundTrip},
		{"ReadinessRejected", suiteReadinessRejected},
	}
}

func mustReadinesses(t *testing.T, st Store, f Filter) []Readiness {
	t.Helper()
	got, err := st.Readinesses(context.Background(), f)
	if err != nil {
		t.Fatalf("Readinesses(%+v): %v", f, err)
	}
	return got
}

func suiteReadinessRoundTrip(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	notReady := Readiness{Device: "mx2", Site: "ams1", Verdict: readiness.Verdict{
		Verdict:   readiness.NotReady,
		Reasons:   []readiness.Reason{{Code: readiness.CodeReleaseMismatch, Text: "backup runs 21.4R3-S5.4, master 22.2R3.15"}},
		CheckedAt: base,
	}}
	unknown := Readiness{Device: "mx1", Verdict: readiness.Verdict{
		Verdict:   readiness.Unknown,
		Reasons:   []readiness.Reason{},
		Unknown:   []readiness.Reason{{Code: readiness.CodeGRESNotReady, Text: "the replication state (show task replication) was not read"}},
		CheckedAt: base.Add(time.Minute),
	}}
	for _, r := range []Readiness{notReady, unknown} {
		if err := st.SaveReadiness(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := mustReadinesses(t, st, Filter{}), []Readiness{unknown, notReady}; !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip, by device\n got %+v\nwant %+v", got, want)
	}
	// A later poll replaces the device's verdict; nil reasons read as [].
	ready := Readiness{Device: "mx2", Site: "ams1", Verdict: readiness.Verdict{Verdict: readiness.Ready, CheckedAt: base.Add(time.Hour)}}
	if err := st.SaveReadiness(ctx, ready); err != nil {
		t.Fatal(err)
	}
	ready.Reasons = []readiness.Reason{}
	if got := mustReadinesses(t, st, Filter{Devices: []string{"mx2"}}); !reflect.DeepEqual(got, []Readiness{ready}) {
		t.Fatalf("replaced\n got %+v\nwant %+v", got, []Readiness{ready})
	}
	if got := mustReadinesses(t, st, Filter{Since: base.Add(30 * time.Minute)}); len(got) != 1 || got[0].Device != "mx2" {
		t.Fatalf("since: got %+v, want mx2 only", got)
	}
}

func suiteReadinessRejected(t *testing.T, open opener) {
	st := open(t)
	for _, c := range []struct {
		r    Readiness
		want string
	}{
		{Readiness{Verdict: readiness.Verdict{Verdict: readiness.Ready, CheckedAt: base}}, "no device name"},
		{Readiness{Device: "mx1", Verdict: readiness.Verdict{Verdict: readiness.Ready}}, "mx1: no checked_at"},
		{Readiness{Device: "mx1", Verdict: readiness.Verdict{Verdict: "maybe", CheckedAt: base}}, `verdict "maybe"`},
	} {
		err := st.SaveReadiness(context.Background(), c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SaveReadiness(%+v) = %v, want an error with %q", c.r, err, c.want)
		}
	}
	if got := mustReadinesses(t, st, Filter{}); len(got) != 0 {
		t.Errorf("stored after rejections: %+v", got)
	}
}
