package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mastership/mastership/devices"
)

// pollPage is how many polls EachPoll reads per page. Each page is one
// short read transaction (the polls and their children seen together), so
// a long export neither holds memory nor pins the WAL for its whole run.
const pollPage = 512

func (s *sqliteStore) EachPoll(ctx context.Context, f Filter, fn func(*devices.Poll) error) error {
	var base where
	base.devices("device", f.Devices)
	if err := base.timeRange("started", "started", f); err != nil {
		return fmt.Errorf("polls: %w", err)
	}
	left := f.Limit // <= 0: no limit
	var (
		lastStarted, lastID int64
		first               = true
	)
	for {
		w := where{conds: append([]string(nil), base.conds...), args: append([]any(nil), base.args...)}
		if !first {
			// Keyset paging: rows after the last one sent, in (started, id)
			// order, so polls saved meanwhile neither repeat nor shift pages.
			w.add("(started > ? OR (started = ? AND id > ?))", lastStarted, lastStarted, lastID)
		}
		n := pollPage
		if left > 0 && left < n {
			n = left
		}
		page, err := s.pollPage(ctx, w, n)
		if err != nil {
			return fmt.Errorf("polls: %w", err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < n {
			return nil
		}
		if left > 0 {
			if left -= len(page); left == 0 {
				return nil
			}
		}
		last := page[len(page)-1]
		lastStarted, lastID, first = last.Started.UnixNano(), last.ID, false
	}
}

// pollPage reads up to n polls matching w, oldest first, snapshots loaded.
func (s *sqliteStore) pollPage(ctx context.Context, w where, n int) ([]devices.Poll, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // read only: nothing to keep

	// Run as text, not kept prepared: the keyset condition and the IN list
	// of children make the text vary by page and by page size, and one
	// preparation per query is nothing beside a page of 512 polls.
	var polls []devices.Poll
	err = eachRow(ctx, tx, `SELECT `+pollColumns+` FROM polls`+w.String()+` ORDER BY started, id LIMIT ?`,
		append(w.args, int64(n)), func(rows *sql.Rows) error {
			p, err := scanPoll(rows)
			polls = append(polls, p)
			return err
		})
	if err != nil || len(polls) == 0 {
		return polls, err
	}
	snaps := make(map[int64]*devices.Snapshot, len(polls))
	ids := make([]any, 0, len(polls))
	for i := range polls {
		if polls[i].Snapshot != nil {
			snaps[polls[i].ID] = polls[i].Snapshot
			ids = append(ids, polls[i].ID)
		}
	}
	if len(ids) == 0 {
		return polls, nil
	}
	if err := loadChildren(ctx, tx, snaps, "", "poll_id IN ("+placeholders(len(ids))+")", ids...); err != nil {
		return nil, err
	}
	return polls, nil
}
