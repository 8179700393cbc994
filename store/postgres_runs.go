package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mastership/mastership/devices"
)

func (s *pgStore) BeginRun(ctx context.Context, started time.Time) (int64, error) {
	if started.IsZero() {
		return 0, errors.New("begin run: no start time")
	}
	if _, err := nanos(started); err != nil { // the range both engines accept
		return 0, fmt.Errorf("begin run: %w", err)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO runs (started, agent) VALUES ($1, $2) RETURNING id`,
		pgTime(started), s.agent.String()).Scan(&id); err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return id, nil
}

func (s *pgStore) FinishRun(ctx context.Context, run devices.Run) error {
	if _, err := nanosOrNull(run.Finished); err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE runs SET finished = $1, devices = $2, ok = $3, failed = $4, interrupted = $5, unstored = $6
WHERE id = $7`, pgTimeOrNull(run.Finished), run.Devices, run.OK, run.Failed, run.Interrupted, run.Unstored, run.ID)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish run %d: %w", run.ID, ErrNotFound)
	}
	return nil
}

func (s *pgStore) Runs(ctx context.Context, limit int) ([]devices.Run, error) {
	var lim *int // NULL: no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT id, started, finished, devices, ok, failed, interrupted, unstored
FROM runs ORDER BY started DESC, id DESC LIMIT $1`, lim)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (devices.Run, error) {
		var (
			r        devices.Run
			finished *time.Time
		)
		err := row.Scan(&r.ID, &r.Started, &finished, &r.Devices, &r.OK, &r.Failed, &r.Interrupted, &r.Unstored)
		r.Finished = zeroIfNil(finished)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (s *pgStore) RecoverRuns(ctx context.Context) ([]devices.Run, error) {
	out, err := s.recoverRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover unfinished runs: %w", err)
	}
	return out, nil
}

// recoverRuns judges each unfinished run by its agent and closes the
// dead ones, each with one UPDATE that counts its polls and re-checks
// that the run is still unfinished: two agents of one host recovering at
// once (each UPDATE waits for the other's row lock, then re-reads the
// row) close every run once, and only one of them reports it. Runs of
// other hosts are never touched: whether their agent lives is for leases
// shared through the database to tell, not for this host.
func (s *pgStore) recoverRuns(ctx context.Context) ([]devices.Run, error) {
	type unfinished struct {
		id      int64
		started time.Time
		agent   string
	}
	rows, err := s.pool.Query(ctx, `SELECT id, started, agent FROM runs WHERE finished IS NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (unfinished, error) {
		var u unfinished
		err := row.Scan(&u.id, &u.started, &u.agent)
		return u, err
	})
	if err != nil {
		return nil, err
	}
	var out []devices.Run
	for _, u := range runs {
		a, ok := parseAgent(u.agent)
		if !ok || !s.agent.gone(a) {
			continue
		}
		// The counts are what was stored before the agent died; the last
		// poll's end is as close to the run's end as the database can tell.
		r := devices.Run{ID: u.id, Started: u.started, Interrupted: true}
		err := s.pool.QueryRow(ctx, `UPDATE runs r SET finished = COALESCE(c.last, r.started), devices = c.n, ok = c.ok,
    failed = c.n - c.ok, interrupted = true
FROM (SELECT COUNT(*)::int AS n, (COUNT(*) FILTER (WHERE outcome IN ('ok', 'partial')))::int AS ok,
        MAX(COALESCE(finished, started)) AS last
    FROM polls WHERE run_id = $1) c
WHERE r.id = $1 AND r.finished IS NULL
RETURNING r.finished, r.devices, r.ok, r.failed`, u.id).Scan(&r.Finished, &r.Devices, &r.OK, &r.Failed)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // finished meanwhile, or recovered by another agent
		}
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", u.id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ClaimPoll inserts the claim or, when (slot, device) is taken, reads
// back its owner, in one statement: ON CONFLICT DO UPDATE waits for a
// concurrent claimant's transaction and locks the row it committed, so
// exactly one agent's insert wins and every other sees the winner.
func (s *pgStore) ClaimPoll(ctx context.Context, slot time.Time, device string) (bool, error) {
	if _, err := nanos(slot); err != nil || slot.IsZero() {
		return false, fmt.Errorf("claim poll of %s: bad slot %v", device, slot)
	}
	me := s.agent.claimant()
	var owner string
	err := s.pool.QueryRow(ctx, `INSERT INTO poll_claims (slot, device, agent, claimed_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (slot, device) DO UPDATE SET agent = poll_claims.agent
RETURNING agent`, pgTime(slot), device, me, pgTime(s.now())).Scan(&owner)
	if err != nil {
		return false, fmt.Errorf("claim poll of %s: %w", device, err)
	}
	return owner == me, nil
}
