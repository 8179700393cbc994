package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// TestRecoverRuns: only runs whose agent is surely gone are marked
// interrupted, with the counts of the polls they stored.
func TestRecoverRuns(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	ctx := context.Background()
	self := s.agent
	// pid_max is at most 2^22 on Linux: this process cannot exist.
	const deadPID = 99_999_999
	agents := map[string]agent{
		"killed":        {host: self.host, boot: self.boot, pid: deadPID},
		"before reboot": {host: self.host, boot: "another-boot", pid: self.pid},
		"this process":  self,
		"other host":    {host: self.host + "-other", boot: self.boot, pid: deadPID},
		"finished":      {host: self.host, boot: self.boot, pid: deadPID},
	}
	ids := map[string]int64{}
	for i, name := range []string{"killed", "before reboot", "this process", "other host", "finished"} {
		started := base.Add(time.Duration(i) * time.Hour)
		id := mustBeginRun(t, st, started)
		ids[name] = id
		if _, err := s.writer.Exec(`UPDATE runs SET agent = ? WHERE id = ?`, agents[name].String(), id); err != nil {
			t.Fatal(err)
		}
		ok := fullPoll(fmt.Sprintf("mx%d", i), id, started.Add(time.Second))
		bad := failedPoll(fmt.Sprintf("mx%d", i), id, started.Add(2*time.Second))
		mustSave(t, st, &ok)
		mustSave(t, st, &bad)
		if name == "finished" {
			if err := st.FinishRun(ctx, devices.Run{ID: id, Finished: started.Add(time.Minute), Devices: 2, OK: 1, Failed: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := st.RecoverRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids["killed"] || got[1].ID != ids["before reboot"] {
		t.Fatalf("RecoverRuns = %+v, want the killed run and the one from before the reboot", got)
	}
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]devices.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	k := byID[ids["killed"]]
	if !k.Interrupted || k.Devices != 2 || k.OK != 1 || k.Failed != 1 || !k.Finished.Equal(base.Add(2*time.Second).Add(30*time.Second)) {
		t.Errorf("killed run after recovery: %+v", k)
	}
	for _, name := range []string{"this process", "other host"} {
		if r := byID[ids[name]]; r.Interrupted || !r.Finished.IsZero() {
			t.Errorf("%s: run touched by recovery: %+v", name, r)
		}
	}
	if again, err := st.RecoverRuns(ctx); err != nil || len(again) != 0 {
		t.Errorf("second RecoverRuns = %v, %v; want nothing left", again, err)
	}
}

// TestClaimPollTwoAgents: two agents on one database file race for the
// same devices of a slot; each device goes to exactly one of them. Both
// are opened by this one process, so host, boot and PID cannot tell them
// apart (nor can they two containers on one kernel, each PID 1 under the
// same hostname): the claim must.
func TestClaimPollTwoAgents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := mustOpen(t, path), mustOpen(t, path)
	defer mustClose(t, a)
	defer mustClose(t, b)
	raceClaims(t, a, b)
}
