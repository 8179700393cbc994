package netconf

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestKnownHostsCache: a cached file answers like a fresh parse, a change
// to the file (an appended key) is seen at once, a removed file reads as
// missing, and concurrent loads agree.
func TestKnownHostsCache(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	a, b := hkEd25519(t).PublicKey(), hkEd25519(t).PublicKey()
	hkWriteFile(t, file, knownhosts.Line([]string{"[10.0.0.1]:830"}, a))
	var cache KnownHostsCache
	check := func(key ssh.PublicKey) error {
		t.Helper()
		db, err := cache.load(file)
		if err != nil || db == nil {
			t.Fatalf("load: %v, %v", db != nil, err)
		}
		return db("10.0.0.1:830", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 830}, key)
	}
	if err := check(a); err != nil {
		t.Fatalf("known key refused: %v", err)
	}
	if err := check(b); err == nil {
		t.Fatal("unknown key accepted")
	}
	// accept-new appends; the next load must see it.
	hkWriteFile(t, file, knownhosts.Line([]string{"[10.0.0.1]:830"}, a), knownhosts.Line([]string{"[10.0.0.2]:830"}, b))
	db, err := cache.load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := db("10.0.0.2:830", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 830}, b); err != nil {
		t.Errorf("key appended to the file not seen: %v", err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if db, err := cache.load(file); err != nil || db == nil {
				t.Errorf("concurrent load: %v", err)
			}
		})
	}
	wg.Wait()
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if db, err := cache.load(file); db != nil || err != nil {
		t.Errorf("removed file: db %v, err %v; want nil, nil (every host unknown)", db != nil, err)
	}
}
