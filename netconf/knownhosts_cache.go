package netconf

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// KnownHostsCache keeps parsed known_hosts files between dials. Without
// it every Dial parses the whole file, and x/crypto keeps that parse for
// the life of the connection (it checks the key again on re-key): with
// thousands of routers in one file, that was most of a fresh poll's CPU
// and 4 MiB per open session. With it, all connections share one parse
// per file, taken again only when the file changes (an accept-new append,
// an operator's edit), which os.Stat tells by size and modification time.
//
// The zero value is ready to use; a KnownHostsCache must not be copied
// after first use. It is safe for concurrent use.
type KnownHostsCache struct {
	mu    sync.Mutex
	files map[string]knownHostsEntry
}

type knownHostsEntry struct {
	size int64
	mod  time.Time
	db   ssh.HostKeyCallback // nil: the file did not exist
}

// load returns the parsed file, from the cache while it is unchanged. A
// nil cache parses every time.
func (c *KnownHostsCache) load(file string) (ssh.HostKeyCallback, error) {
	if c == nil {
		return loadKnownHosts(file)
	}
	fi, statErr := os.Stat(file)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files = make(map[string]knownHostsEntry)
	}
	e, ok := c.files[file]
	switch {
	case statErr != nil && os.IsNotExist(statErr):
		delete(c.files, file) // not cached: it may appear any moment
		return nil, nil
	case statErr != nil:
		return nil, fmt.Errorf("netconf: reading known_hosts %s: %w", file, statErr)
	case ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()):
		return e.db, nil
	}
	// Parsed under the lock: a fleet dialling at once parses once.
	db, err := loadKnownHosts(file)
	if err != nil {
		return nil, err
	}
	c.files[file] = knownHostsEntry{size: fi.Size(), mod: fi.ModTime(), db: db}
	return db, nil
}
