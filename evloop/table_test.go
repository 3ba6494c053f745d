package evloop

import (
	"math"
	"testing"
	"unsafe"
)

func TestSizeTable(t *testing.T) {
	tests := []struct {
		name        string
		max         int
		soft        uint64
		open        int
		table, conn int
	}{
		{"fedora default", 0, 1024, 10, 1024, 1014},
		{"max smaller", 100, 1024, 10, 1024, 100},
		{"max larger than limit", 5000, 1024, 10, 1024, 1014},
		{"soft 1e9 capped", 0, 1e9, 10, DefaultTableCap, DefaultTableCap},
		{"soft 1e9 with max", 1 << 21, 1e9, 10, DefaultTableCap, DefaultTableCap},
		{"infinity", 0, math.MaxUint64, 3, DefaultTableCap, DefaultTableCap},
		{"open exceeds limit", 0, 8, 20, 8, 0},
		{"exact cap", 0, DefaultTableCap + 5, 5, DefaultTableCap, DefaultTableCap},
	}
	for _, tt := range tests {
		got := SizeTableFor(tt.max, tt.soft, tt.open)
		if got.TableSize != tt.table || got.MaxConns != tt.conn || got.Soft != tt.soft {
			t.Errorf("%s: SizeTableFor(%d, %d, %d) = %+v, want table %d conns %d", tt.name, tt.max, tt.soft, tt.open, got, tt.table, tt.conn)
		}
	}
	// A 1e9 limit must not allocate gigabytes.
	tab := NewTable(SizeTableFor(0, 1e9, 10).TableSize)
	if mb := tab.MemoryBytes(); mb > 64<<20 {
		t.Errorf("table for a 1e9 limit takes %d bytes", mb)
	}

	sz, err := SizeTable(0)
	if err != nil {
		t.Fatal(err)
	}
	if sz.Soft == 0 || sz.TableSize <= 0 || sz.TableSize > DefaultTableCap || uint64(sz.TableSize) > sz.Soft || sz.MaxConns > sz.TableSize {
		t.Fatalf("SizeTable(0) = %+v", sz)
	}
	if s, _ := SizeTable(7); s.MaxConns != min(7, sz.MaxConns) {
		t.Fatalf("SizeTable(7) = %+v", s)
	}
}

func TestTableMemory(t *testing.T) {
	tab := NewTable(1000)
	if tab.Size() != 1000 || tab.Len() != 0 {
		t.Fatalf("Size %d Len %d", tab.Size(), tab.Len())
	}
	if got, want := tab.MemoryBytes(), 1000*int(unsafe.Sizeof(slot{})); got != want {
		t.Fatalf("MemoryBytes = %d, want %d", got, want)
	}
	if unsafe.Sizeof(slot{}) > 24 {
		t.Errorf("slot is %d bytes, want <= 24", unsafe.Sizeof(slot{}))
	}
	if tab.Get(-1) != nil || tab.Get(1000) != nil || tab.Get(5) != nil {
		t.Fatal("Get of an empty or out-of-range slot")
	}
}

func TestEventsString(t *testing.T) {
	if s := (Readable | Hangup).String(); s != "Readable|Hangup" {
		t.Fatal(s)
	}
	if s := Events(0).String(); s != "0" {
		t.Fatal(s)
	}
	if s := (Error | 0x100).String(); s != "Error|0x100" {
		t.Fatal(s)
	}
}
