package vacation

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vacationd/vacationd/store"
)

// The service converts keys to the bbolt store's; this fails to compile if
// the two drift apart.
var _ = store.DedupKey(Key{})

func TestMemoryDedup(t *testing.T) {
	ctx := context.Background()
	var m MemoryDedup
	k := Key{User: "bob", Sender: "alice@example.org", Handle: "h"}
	if seen, err := m.Seen(ctx, k, fixedNow); err != nil || seen {
		t.Fatalf("empty: %v %v", seen, err)
	}
	if err := m.Mark(ctx, k, fixedNow, fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// An earlier expiry does not shorten the record.
	if err := m.Mark(ctx, k, fixedNow, fixedNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if seen, _ := m.Seen(ctx, k, fixedNow.Add(59*time.Minute)); !seen {
		t.Error("not seen within the period")
	}
	if seen, _ := m.Seen(ctx, Key{User: "bob", Sender: "alice@example.org", Handle: "other"}, fixedNow); seen {
		t.Error("other handle seen")
	}
	if seen, _ := m.Seen(ctx, k, fixedNow.Add(time.Hour)); seen {
		t.Error("seen at expiry")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Seen(cancelled, k, fixedNow); err == nil {
		t.Error("Seen ignores a cancelled context")
	}
	if err := m.Mark(cancelled, k, fixedNow, fixedNow); err == nil {
		t.Error("Mark ignores a cancelled context")
	}
}

func TestMemoryDedupConcurrent(t *testing.T) {
	ctx := context.Background()
	var m MemoryDedup
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				k := Key{User: "u", Sender: fmt.Sprint(i, "-", j)}
				_ = m.Mark(ctx, k, fixedNow, fixedNow.Add(time.Hour))
				if seen, _ := m.Seen(ctx, k, fixedNow); !seen {
					t.Errorf("%v not seen", k)
				}
			}
		}()
	}
	wg.Wait()
	if n := len(m.Records(fixedNow)); n != 800 {
		t.Errorf("%d records, want 800", n)
	}
}
