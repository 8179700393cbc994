package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Statements the SQLite engine keeps prepared.
//
// With modernc's SQLite, parsing and planning a statement costs about as
// much as running one of the small ones a poll runs (in a profile of an
// audit, preparing took a fifth of the agent's CPU), and a method that
// hands database/sql query text prepares it again on every call. The
// statements of a device poll and of the judge are therefore prepared
// once per store and reused:
//
//   - Fixed text is prepared when the store opens (sqliteStmts). The
//     writer's statements must be: preparing on the writer pool needs its
//     one connection, which a write transaction in progress holds, so a
//     statement first prepared inside one would wait for itself.
//   - Text built from a Filter is prepared on first use and kept in a
//     stmtCache on the reader pool (see sqliteStore.eachFiltered).
//
// database/sql prepares a *sql.Stmt of a pool again, once, on each
// connection that runs it, and keeps those driver statements until the
// Stmt is closed. Inside a transaction, tx.StmtContext hands back the
// driver statement already prepared on the transaction's connection (the
// writer only has one), and the handle it returns is dropped when the
// transaction ends, so calling it per transaction costs no preparation
// and keeps nothing.

// sqliteStmts are the statements prepared when the store opens.
type sqliteStmts struct {
	// Writer: SavePoll.
	insertPoll, insertRE, insertAlarm, insertSoftware *sql.Stmt
	// Writer: SaveLogs.
	insertLogLine, insertEvent, upsertCursor, countStoredLines *sql.Stmt
	// Writer: SaveTransitions, SaveAlarmRecords, ReplaceFindings, SaveConfig.
	findTransition, insertTransition, updateTransition *sql.Stmt
	upsertAlarmRecord                                  *sql.Stmt
	storedFindings, deleteFinding, upsertFinding       *sql.Stmt
	configInEffect, insertConfig                       *sql.Stmt
	// Writer: runs and claims.
	insertRun, finishRun, claimPoll *sql.Stmt
	// Writer: SaveReadiness, once per device per audit.
	upsertReadiness *sql.Stmt

	// Reader: asked once per device per poll or audit.
	maxREs, latestPoll, latestREPoll, latestPollID *sql.Stmt
	// Reader: the children of one poll (latestPollBy).
	pollREs, pollAlarms, pollSoftware *sql.Stmt
	// Reader: LogCursor, UnparsedLines, Configs.
	logCursor, unparsedLines, latestConfigs *sql.Stmt

	// prepared is every statement above that prepare made, for Close.
	prepared []*sql.Stmt
}

// prepare prepares the statements of sqliteStmts.
func (s *sqliteStore) prepare(ctx context.Context) error {
	onePoll := `poll_id = ?`
	for _, p := range []struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}{
		{s.writer, &s.insertPoll, insertPollSQL},
		{s.writer, &s.insertRE, insertRESQL},
		{s.writer, &s.insertAlarm, insertAlarmSQL},
		{s.writer, &s.insertSoftware, insertSoftwareSQL},
		{s.writer, &s.insertLogLine, insertLogLineSQL},
		{s.writer, &s.insertEvent, insertEventSQL},
		{s.writer, &s.upsertCursor, upsertCursorSQL},
		{s.writer, &s.countStoredLines, countStoredLinesSQL},
		{s.writer, &s.findTransition, findTransitionSQL},
		{s.writer, &s.insertTransition, insertTransitionSQL},
		{s.writer, &s.updateTransition, updateTransitionSQL},
		{s.writer, &s.upsertAlarmRecord, upsertAlarmRecordSQL},
		{s.writer, &s.storedFindings, storedFindingsSQL},
		{s.writer, &s.deleteFinding, deleteFindingSQL},
		{s.writer, &s.upsertFinding, upsertFindingSQL},
		{s.writer, &s.configInEffect, configInEffectSQL},
		{s.writer, &s.insertConfig, insertConfigSQL},
		{s.writer, &s.insertRun, insertRunSQL},
		{s.writer, &s.finishRun, finishRunSQL},
		{s.writer, &s.claimPoll, claimPollSQL},
		{s.writer, &s.upsertReadiness, upsertReadinessSQL},

		{s.reader, &s.maxREs, maxREsSQL},
		{s.reader, &s.latestPoll, latestPollSQL},
		{s.reader, &s.latestREPoll, latestREPollSQL},
		{s.reader, &s.latestPollID, latestPollIDSQL},
		{s.reader, &s.pollREs, routeEnginesSelect("", onePoll)},
		{s.reader, &s.pollAlarms, alarmsSelect("", onePoll)},
		{s.reader, &s.pollSoftware, softwareSelect("", onePoll)},
		{s.reader, &s.logCursor, logCursorSQL},
		{s.reader, &s.unparsedLines, unparsedLinesSQL},
		{s.reader, &s.latestConfigs, latestConfigsQuery},
	} {
		st, err := p.db.PrepareContext(ctx, p.text)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.text, err)
		}
		*p.dst = st
		s.prepared = append(s.prepared, st)
	}
	s.filtered = newStmtCache(s.reader, maxFilteredStmts)
	return nil
}

// closeStmts closes what prepare prepared, returning each error.
func (s *sqliteStore) closeStmts() []error {
	var errs []error
	for _, st := range s.prepared {
		errs = append(errs, st.Close())
	}
	if s.filtered != nil {
		errs = append(errs, s.filtered.close())
	}
	return errs
}

// maxFilteredStmts bounds the statements a store keeps for Filter-built
// text. Only filters of at most one device are kept (see eachFiltered),
// which gives a few dozen texts at most: four readers, with or without a
// device, Since, Until and (findings) Cause. The bound is a safety net
// should that ever change, not a working limit.
const maxFilteredStmts = 64

// stmtCache prepares a query text on db the first time it is asked for
// and returns the same *sql.Stmt after that. It holds at most limit
// statements and never evicts one: a statement handed out may be in use,
// and closing it under its user would fail that user's query. Once full,
// get returns nil and the caller runs the text unprepared. It is safe for
// concurrent use.
type stmtCache struct {
	db    *sql.DB
	limit int

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

func newStmtCache(db *sql.DB, limit int) *stmtCache {
	return &stmtCache{db: db, limit: limit, stmts: make(map[string]*sql.Stmt)}
}

// errStmtCacheClosed is get's error once the store is closed.
var errStmtCacheClosed = errors.New("store is closed")

// get returns the statement for text, preparing it if needed, or nil
// when the cache is full.
func (c *stmtCache) get(ctx context.Context, text string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.stmts[text]
	full := len(c.stmts) >= c.limit
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return nil, errStmtCacheClosed
	case ok:
		return st, nil
	case full:
		return nil, nil
	}

	// Prepared outside the lock: it waits for a reader connection, and
	// cached statements must not wait behind it. Two first callers may
	// both prepare; the second keeps the first one's.
	st, err := c.db.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = st.Close() // the caller gets the reason it cannot be used
		return nil, errStmtCacheClosed
	}
	if had, ok := c.stmts[text]; ok {
		_ = st.Close() // an unused duplicate: nothing to report
		return had, nil
	}
	if len(c.stmts) >= c.limit {
		_ = st.Close() // filled meanwhile: the caller runs the text
		return nil, nil
	}
	c.stmts[text] = st
	return st, nil
}

// close closes the statements; get fails after it.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for text, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, text)
	}
	return errors.Join(errs...)
}
