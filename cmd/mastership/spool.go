package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/spool"
)

// defaultSpoolDir is where the daemon keeps its spool unless --spool-dir
// says otherwise: beside an SQLite file (which lives in the state
// directory by default), else in the state directory, named after the
// database (never holding its password).
func defaultSpoolDir(db string) string {
	if path, ok, err := store.SQLiteFile(db); err == nil && ok {
		return path + ".spool"
	}
	sum := sha256.Sum256([]byte(devices.MaskDSN(db)))
	return filepath.Join(filepath.Dir(defaultDBPath()), "spool-"+hex.EncodeToString(sum[:4]))
}

// openDaemonSpool opens and locks the daemon's spool. Without
// --spool-dir, a daemon that finds the default spool held by another one
// (agents sharing a database from one host) takes the next free
// directory, DIR.2, DIR.3, …: any agent may flush any spool into the
// shared database.
func openDaemonSpool(dir, db string, max int64, st store.Store, hist *schedule.Historian, op func(string, error), log *slog.Logger) (*schedule.Spool, func(), error) {
	dirs := spoolDirs(dir, db)
	for _, d := range dirs {
		unlock, err := spool.Lock(d)
		if errors.Is(err, spool.ErrLocked) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--spool-dir: %w", err)
		}
		sp, err := schedule.OpenSpool(d, max, st, hist, op, log)
		if err != nil {
			unlock()
			return nil, nil, fmt.Errorf("--spool-dir: %w", err)
		}
		log.Info("spool", "dir", d, "max_bytes", max, "polls_waiting", sp.Status().PollsWaiting)
		return sp, unlock, nil
	}
	return nil, nil, fmt.Errorf("--spool-dir: %s: %w", dirs[0], spool.ErrLocked)
}

// spoolDirs are the directories a daemon of db may keep its spool in.
func spoolDirs(dir, db string) []string {
	if dir != "" {
		return []string{dir}
	}
	base := defaultSpoolDir(db)
	dirs := []string{base}
	for i := 2; i <= 16; i++ {
		dirs = append(dirs, base+"."+strconv.Itoa(i))
	}
	return dirs
}

// noteSpool tells (on stderr) when a daemon's spool holds polls that
// are not in the store yet, so a report is known to be behind. report
// never flushes a spool: the daemon owns it.
func (a *app) noteSpool(dir, db string) {
	for _, d := range spoolDirs(dir, db) {
		st, ok, err := schedule.ReadSpoolStatus(d)
		if err != nil {
			a.log.Warn("spool status unreadable", "error", err)
			continue
		}
		if ok && st.PollsWaiting > 0 {
			fmt.Fprintf(a.stderr, "NOTE: the spool of the daemon (pid %d) in %s holds %d polls not yet in the store (as of %s): this report does not include them\n",
				st.PID, d, st.PollsWaiting, st.Updated.Format(time.RFC3339))
		}
	}
}

// parseSize reads a byte size: a number with an optional KiB, MiB, GiB
// (or K, M, G, KB, MB, GB, all powers of 1024) suffix.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(t)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: not a number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}
