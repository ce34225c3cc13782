package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/trustsign/trustsign/store"
)

// Group commit. Every Update and Batch (WriteGroupCommit, the default) goes through one writer, two goroutines:
//
//   - the executor runs each queued transaction function as soon as it can, one after another, into the open
//     group: the function writes into its own buffer, which joins the group's writes when it returns nil;
//   - the committer, whenever it is free, closes the open group and makes it durable in ONE record of the
//     write-ahead log (one write, one fdatasync; wal.go), and only then answers the group's callers; a checkpointer
//     puts the durable groups into bbolt in the background.
//
// While the committer has a group on the disk, the executor fills the next one, so a commit costs the same however
// many transactions it carries, the number of commits per second is bounded by the disk and not by the callers,
// and a caller waits for the rest of the commit under way and its own (a caller alone: its own commit). There is no
// timer.
//
// A function reads through layers: its own writes, the writes of the functions before it in the open group, the
// writes of the group being committed, the durable groups not yet checkpointed, and below them a bbolt read
// transaction (opened for the function). The functions run in queue order, each seeing exactly the writes of those
// before it: the groups are serializable. Each function is isolated: one that returns an error (or panics) has its
// own writes dropped and is answered at once; neither the group nor the other functions run again (bbolt's
// DB.Batch rolls the whole batch back and re-runs the others). Groups commit in order; a commit that fails fails
// every function it carried, and the group after it (which read its writes). A group in which no function wrote
// anything is not committed (no fsync).

// groupWriter is the writer: the queue, the executor and the committer.
type groupWriter struct {
	bolt *bolt.DB

	mu     sync.Mutex // guards queue and closed
	queue  []*writeCall
	closed bool
	wake   chan struct{} // one pending wake-up of the executor

	// gmu guards cur and last; the executor holds it while it runs a function, the committer to close a group
	gmu  sync.Mutex
	cur  *group // the open group (nil: none yet)
	last *group // the group closed last (being committed, or done)
	// ready tells the committer that the open group has calls (one pending signal)
	ready    chan struct{}
	execDone chan struct{} // closed when the executor has ended
	stopped  chan struct{} // closed when both have ended

	// groups is the number of groups opened; failed the number of the last one whose commit failed or will (0:
	// none). A call made after UpdateAhead (its context says after which group, see store.DB.UpdateAhead) is failed
	// without running when that group or a later one failed: it must not commit when the write before it was lost.
	groups atomic.Uint64
	failed atomic.Uint64
	stats  GroupCommitStats
	statMu sync.Mutex

	// the write-ahead log (wal.go): path is the store file's, id and applied its walState
	path string
	id   [16]byte
	// walMu guards wal, walErr and the committer's adding to pending (so that the layers pending when the
	// checkpointer switches files are exactly those in the files before the switch)
	walMu  sync.Mutex
	wal    *walFile
	walErr error // a failed log write: the log's end is unknown, every later commit fails
	recBuf []byte
	// pmu guards pending: the durable groups' writes not yet in bbolt, oldest first (an immutable slice, replaced
	// on change). A reader takes it and opens its bbolt read transaction under one RLock (snapshot).
	pmu     sync.RWMutex
	pending []*layer
	// the checkpointer
	ckWake    chan struct{}
	ckFlush   chan chan error
	ckQuit    chan struct{}
	ckStopped chan struct{}
	applied   uint64 // the last log generation in bbolt (the checkpointer's)
	// paused stops checkpoints but the final one (tests: the log then holds every commit)
	paused   atomic.Bool
	quitOnce sync.Once
	// ckErr is the last checkpoint's error (nil after a success), ckFailingSince when the failures began (statMu)
	ckErr          error
	ckFailingSince time.Time
	ov             overlay // the executor's (see execute)
}

// maxWALRecord bounds a log record (its length is 32 bits): a group whose writes come to more fails.
const maxWALRecord = 1<<32 - 1

// checkpointEvery is the least time between the starts of two checkpoints (unless a flush is asked for): the
// longer, the more groups each checkpoint writes at once (pages touched by several written once) and the more
// layers a read goes through meanwhile.
const checkpointEvery = 25 * time.Millisecond

// GroupCommitStats counts the writer's work since Open.
type GroupCommitStats struct {
	// Calls is the number of transaction functions run, Groups the number of groups closed, Commits the commits
	// made (groups with writes), Rollbacks the groups that wrote nothing or failed.
	Calls, Groups, Commits, Rollbacks uint64
	// MaxGroup is the largest group.
	MaxGroup int
	// RunTime is the time spent running functions, CommitTime the time spent in commits (writing and fsyncing);
	// they overlap.
	RunTime, CommitTime time.Duration
	// LogBytes is what the commits appended to the write-ahead log.
	LogBytes int64
	// Checkpoints is the number of checkpoints made (groups' writes put into bbolt), CheckpointTime their time; of
	// it ApplyTime putting the writes into bbolt's transaction, SpillTime bbolt's spill (its B+tree nodes written
	// into pages), WriteTime writing the pages and the meta page with their fsyncs; Writes is the number of page
	// writes and PageBytes the bytes of pages allocated.
	Checkpoints, CheckpointFailures                 uint64
	CheckpointTime, ApplyTime, SpillTime, WriteTime time.Duration
	Writes, PageBytes                               int64
}

// call states
const (
	callQueued int32 = iota
	callTaken
	callAbandoned
)

// writeCall is one caller's transaction function waiting in the queue.
type writeCall struct {
	fn    func(store.KVTx) error
	state atomic.Int32
	// ran receives fn's own result once fn has run (buffered; used by UpdateAhead), done the final result after
	// the commit (buffered).
	ran  chan error
	done chan error
	// after is the group whose commit this call depends on (0: none); group is the group it ran in.
	after, group uint64
	panicked     any
	// ranSent: the writer answered ran (only the goroutine holding the call touches it)
	ranSent bool
}

// group is one group of calls: open while the executor adds to it, then closed and committed.
type group struct {
	num     uint64
	writes  layer        // the writes of its functions that returned nil, merged in order
	carried []*writeCall // those functions' calls
	// base is the group that was being committed when this one opened (its writes are read through), nil when
	// none; its commit failing fails this one (doomed, decided when this one is closed).
	base   *group
	doomed bool
	// committed is closed when the committer is done with the group; err is then the commit's result.
	committed chan struct{}
	err       error
}

func newGroupWriter(b *bolt.DB, path string, st walState) (*groupWriter, error) {
	w := &groupWriter{bolt: b, wake: make(chan struct{}, 1), ready: make(chan struct{}, 1),
		execDone: make(chan struct{}), stopped: make(chan struct{}), path: path, id: st.id,
		ckWake: make(chan struct{}, 1), ckFlush: make(chan chan error), ckQuit: make(chan struct{}),
		ckStopped: make(chan struct{}), applied: st.applied}
	f, err := openWALSlot(path, int((st.applied+1)%2), st.id, st.applied+1)
	if err != nil {
		return nil, fmt.Errorf("store: making the write-ahead log: %w", err)
	}
	w.wal = f
	go w.checkpointer()
	go func() { w.commit(); close(w.stopped) }()
	go w.executor()
	return w, nil
}

// executor runs the executor until the writer closes.
func (w *groupWriter) executor() {
	normal := false
	defer func() {
		if !normal {
			// a function ended this goroutine with runtime.Goexit (t.FailNow in a test): its call was failed;
			// the queue goes on in a new executor
			go w.executor()
			return
		}
		close(w.execDone)
	}()
	w.run()
	normal = true
}

// errGoexit is the result of a function that called runtime.Goexit.
var errGoexit = errors.New("store/bbolt: a transaction function called runtime.Goexit")

// errPanicked is the result of a function that panicked; the caller panics again with the value.
var errPanicked = errors.New("store/bbolt: transaction function panicked")

// enqueue queues fn; it fails with ErrClosed once the writer is closing.
func (w *groupWriter) enqueue(ctx context.Context, fn func(store.KVTx) error, ahead bool) (*writeCall, error) {
	c := &writeCall{fn: fn, done: make(chan error, 1), after: store.AheadOf(ctx)}
	if ahead {
		c.ran = make(chan error, 1)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, fmt.Errorf("%w: the store is closing", store.ErrClosed)
	}
	w.queue = append(w.queue, c)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return c, nil
}

// update runs fn in the next group and returns once the group's commit returned.
func (w *groupWriter) update(ctx context.Context, fn func(store.KVTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := w.enqueue(ctx, fn, false)
	if err != nil {
		return err
	}
	select {
	case err := <-c.done:
		return c.result(err)
	case <-ctx.Done():
		// a call the writer has not taken yet is withdrawn: it never runs. One it took is waited for, so that the
		// answer says what happened.
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			return ctx.Err()
		}
		return c.result(<-c.done)
	}
}

// updateAhead runs fn in the open group and returns fn's own result and the group's number as soon as fn has
// run; wait returns the final result once the group's commit returned.
func (w *groupWriter) updateAhead(ctx context.Context, fn func(store.KVTx) error) (uint64, func() error, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c, err := w.enqueue(ctx, fn, true)
	if err != nil {
		return 0, nil, err
	}
	var once sync.Once
	var final error
	wait := func() error {
		once.Do(func() { final = <-c.done })
		return c.result(final)
	}
	var ran error
	select {
	case ran = <-c.ran:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callQueued, callAbandoned) {
			return 0, nil, ctx.Err()
		}
		ran = <-c.ran
	}
	if ran != nil {
		return 0, nil, wait() // the same error, once the writer is done with the call
	}
	return c.group, wait, nil
}

// result re-raises a panic of fn in the caller's goroutine.
func (c *writeCall) result(err error) error {
	if err == errPanicked {
		panic(c.panicked)
	}
	return err
}

// close stops taking calls, lets the writer finish what is queued and waits for it.
func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
	<-w.stopped
	w.quitOnce.Do(func() { close(w.ckQuit) })
	<-w.ckStopped
}

// run is the executor's loop: it takes the queue's calls one by one and runs each into the open group.
func (w *groupWriter) run() {
	for {
		<-w.wake
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				closed := w.closed
				w.queue = nil
				w.mu.Unlock()
				if closed {
					return
				}
				break
			}
			c := w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
			w.mu.Unlock()
			if c.state.CompareAndSwap(callQueued, callTaken) {
				w.execute(c)
			} // else its caller gave up before it ran: it never runs
		}
	}
}

// execute runs one call into the open group (opening one if needed) and tells the committer.
func (w *groupWriter) execute(c *writeCall) {
	began := time.Now()
	w.gmu.Lock()
	var rtx *bolt.Tx
	finished := false
	defer func() {
		if rtx != nil {
			rtx.Rollback() //nolint:errcheck // read-only
		}
		if !finished { // runtime.Goexit in the function: its own writes are dropped
			c.answer(errGoexit)
		}
		w.gmu.Unlock()
	}()
	g := w.open()
	if c.after != 0 && w.failed.Load() >= c.after {
		finished = true
		c.answer(fmt.Errorf("%w: the write this transaction came after was not committed", store.ErrUnavailable))
		return
	}
	// the executor's one overlay, used again call after call (its maps kept): a call's writes are copied into the
	// group's layer when it ends, and a function keeps no KVTx past its return
	ov := &w.ov
	ov.own.reuse()
	ov.below = append(ov.below[:0], &g.writes)
	if g.base != nil {
		ov.below = append(ov.below, &g.base.writes)
	}
	var err error
	ov.below, rtx, err = w.snapshot(ov.below)
	if err != nil {
		rtx = nil
		finished = true
		c.answer(mapErr(err))
		return
	}
	ov.tx = rtx
	c.group = g.num
	err = c.call(ov)
	finished = true
	w.count(time.Since(began))
	if err != nil {
		c.answer(err) // only this call's writes are dropped
		return
	}
	g.writes.merge(&ov.own)
	g.carried = append(g.carried, c)
	if c.ran != nil {
		c.ran <- nil
		c.ranSent = true
	}
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// open returns the open group, opening one if there is none. Its base is the last closed group while that one is
// being committed (unless it is doomed: then nothing of it will be there). The caller holds gmu.
func (w *groupWriter) open() *group {
	if w.cur != nil {
		return w.cur
	}
	g := &group{num: w.groups.Add(1), committed: make(chan struct{})}
	if l := w.last; l != nil && !l.doomed {
		select {
		case <-l.committed: // committed (the read transactions see it) or failed (nothing of it is there)
		default:
			g.base = l
		}
	}
	w.cur = g
	return g
}

// commit is the committer: whenever the open group has calls it closes it, writes it to the disk and answers its
// callers; it ends when the executor has ended and nothing is left.
func (w *groupWriter) commit() {
	var lastEnd time.Time
	for {
		select {
		case <-w.ready:
		case <-w.execDone:
		}
		if time.Since(lastEnd) < gatherWhenBusy {
			w.gather()
		}
		w.gmu.Lock()
		g := w.cur
		w.cur = nil
		if g != nil {
			if g.base != nil && g.base.err != nil {
				// it read writes that were lost: it fails, and so must any call made after it (UpdateAhead)
				g.doomed = true
				w.setFailed(g.num)
			}
			g.base = nil // done with it (its commit ended before this one was closed): no chain of groups
			w.last = g
		}
		w.gmu.Unlock()
		if g == nil {
			select {
			case <-w.execDone:
				return
			default:
				continue
			}
		}
		began := time.Now()
		var err error
		wrote := !g.writes.empty()
		switch {
		case g.doomed:
			err = fmt.Errorf("%w: the commit before this transaction's failed", store.ErrUnavailable)
		case wrote:
			err = w.commitLog(&g.writes)
		}
		if err != nil {
			w.setFailed(g.num)
		}
		g.err = err
		lastEnd = time.Now()
		w.countCommit(len(g.carried), wrote && err == nil, time.Since(began))
		close(g.committed)
		for _, c := range g.carried {
			c.done <- err
		}
	}
}

// Under load the committer gathers: when its last commit ended less than gatherWhenBusy ago, it lets the open
// group take calls for up to gatherFor, or until it holds gatherCalls, before closing it. Each commit is a log
// write and an fsync that cost the cores about 60 µs of CPU on the virtual machines measured (every trip to the
// disk is dear there) whatever its size, and a blocked system call whose core the Go scheduler hands away and
// back. At 1,000 flows/s, fsyncs fell from 30–37 to 21–22 thousand per run, and CPU per flow by 4–18 % in three
// paired runs, for at most gatherFor added to a write's wait. A writer that is not busy commits at once.
const (
	gatherWhenBusy = time.Millisecond
	gatherFor      = 400 * time.Microsecond
	gatherCalls    = 8
)

// gather waits until the open group holds gatherCalls calls, gatherFor has passed, or the executor has ended.
func (w *groupWriter) gather() {
	deadline := time.Now().Add(gatherFor)
	t := time.NewTimer(gatherFor)
	defer t.Stop()
	for {
		w.gmu.Lock()
		n := 0
		if w.cur != nil {
			n = len(w.cur.carried)
		}
		w.gmu.Unlock()
		if n >= gatherCalls || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-w.ready:
		case <-t.C:
			return
		case <-w.execDone:
			return
		}
	}
}

// setFailed records that group num's commit failed (or will).
func (w *groupWriter) setFailed(num uint64) {
	for {
		f := w.failed.Load()
		if f >= num || w.failed.CompareAndSwap(f, num) {
			return
		}
	}
}

// commitLog makes one group's writes durable: one record appended to the write-ahead log and fsynced. The
// writes then join pending (reads go through them) until a checkpoint puts them into bbolt.
func (w *groupWriter) commitLog(l *layer) error {
	w.recBuf = encodeWALRecord(w.recBuf[:0], l)
	if len(w.recBuf)-8 > maxWALRecord {
		w.recBuf = nil
		return fmt.Errorf("%w: one commit's writes exceed %d bytes", store.ErrInvalid, maxWALRecord)
	}
	w.walMu.Lock()
	defer w.walMu.Unlock()
	if w.walErr != nil {
		return w.walErr
	}
	sealWALRecord(w.recBuf, w.wal.gen)
	if err := w.wal.append(w.recBuf); err != nil {
		// what reached the file is unknown: nothing more may be appended after it
		w.walErr = fmt.Errorf("%w: writing the write-ahead log failed (restart the service): %v", store.ErrUnavailable, err)
		return w.walErr
	}
	w.pmu.Lock()
	p := make([]*layer, len(w.pending)+1)
	copy(p, w.pending)
	p[len(w.pending)] = l
	w.pending = p
	w.pmu.Unlock()
	w.statMu.Lock()
	w.stats.LogBytes += int64(len(w.recBuf))
	w.statMu.Unlock()
	if cap(w.recBuf) > 1<<20 {
		w.recBuf = nil // one large group's buffer is not kept
	}
	select {
	case w.ckWake <- struct{}{}:
	default:
	}
	return nil
}

// snapshot appends the pending layers to below, newest first (the order reads go through them), and returns a
// bbolt read transaction that, read under them, is one state: the checkpointer drops layers from pending only
// after its commit, and under the write lock.
func (w *groupWriter) snapshot(below []*layer) ([]*layer, *bolt.Tx, error) {
	w.pmu.RLock()
	defer w.pmu.RUnlock()
	tx, err := w.bolt.Begin(false)
	for i := len(w.pending) - 1; i >= 0; i-- {
		below = append(below, w.pending[i])
	}
	return below, tx, err
}

// checkpointer puts the pending groups into bbolt, at most every checkpointEvery (at once for a flush), until
// the writer closes; then it makes the last checkpoint and removes the log.
func (w *groupWriter) checkpointer() {
	defer close(w.ckStopped)
	var last time.Time
	for {
		var waiting []chan error
		select {
		case <-w.ckWake:
			t := time.NewTimer(time.Until(last.Add(checkpointEvery)))
			select {
			case <-t.C:
			case r := <-w.ckFlush:
				waiting = append(waiting, r)
			case <-w.ckQuit:
				t.Stop()
				w.finalCheckpoint()
				return
			}
			t.Stop()
		case r := <-w.ckFlush:
			waiting = append(waiting, r)
		case <-w.ckQuit:
			w.finalCheckpoint()
			return
		}
		last = time.Now()
		var err error
		if !w.paused.Load() {
			err = w.checkpoint(false)
			w.statMu.Lock()
			switch {
			case err == nil:
				w.ckErr, w.ckFailingSince = nil, time.Time{}
			case w.ckErr == nil:
				w.ckErr, w.ckFailingSince = err, time.Now()
				w.stats.CheckpointFailures++
			default:
				w.ckErr = err
				w.stats.CheckpointFailures++
			}
			w.statMu.Unlock()
		}
		for _, r := range waiting {
			r <- err
		}
	}
}

// checkpointsFailingFor is how long checkpoints may keep failing before health says so: the log keeps every
// commit meanwhile, but it and the memory of the groups not checkpointed grow without bound.
const checkpointsFailingFor = 10 * time.Second

// health is nil unless the log can no longer be written or checkpoints have failed for checkpointsFailingFor.
func (w *groupWriter) health() error {
	w.walMu.Lock()
	werr := w.walErr
	w.walMu.Unlock()
	if werr != nil {
		return werr
	}
	w.statMu.Lock()
	defer w.statMu.Unlock()
	if w.ckErr != nil && time.Since(w.ckFailingSince) >= checkpointsFailingFor {
		return fmt.Errorf("%w: checkpoints of the write-ahead log into the store file have failed since %s: %v",
			store.ErrUnavailable, w.ckFailingSince.UTC().Format(time.RFC3339), w.ckErr)
	}
	return nil
}

// flush returns once every group committed before the call is in bbolt (for a backup).
func (w *groupWriter) flush() error {
	r := make(chan error, 1)
	select {
	case w.ckFlush <- r:
		return <-r
	case <-w.ckStopped:
		return fmt.Errorf("%w: the store is closing", store.ErrClosed)
	}
}

// checkpoint writes the pending layers into bbolt in one transaction, with the last log generation they hold all
// of, and switches the committer to the other log file when that one's generation is in bbolt already (the
// layers taken are then exactly those of the generations up to the current one). The final checkpoint runs once
// the writer has stopped: it takes everything.
func (w *groupWriter) checkpoint(final bool) error {
	w.pmu.RLock()
	none := len(w.pending) == 0
	w.pmu.RUnlock()
	if none && !final {
		return nil
	}
	w.walMu.Lock()
	cur := w.wal
	w.walMu.Unlock()
	var next *walFile
	if !final && w.applied+1 >= cur.gen {
		var err error
		if next, err = openWALSlot(w.path, int((cur.gen+1)%2), w.id, cur.gen+1); err != nil {
			next = nil // the layers stay pending and in the current file; a later checkpoint tries again
		}
	}
	w.walMu.Lock()
	if next != nil {
		w.wal = next
	}
	w.pmu.RLock()
	layers := w.pending
	w.pmu.RUnlock()
	w.walMu.Unlock()
	applied := cur.gen - 1 // the generations before the current file's: all theirs is in layers or in bbolt
	if next != nil || final {
		applied = cur.gen
		cur.close() //nolint:errcheck // synced record by record; only read again by a recovery
	}
	if len(layers) == 0 && applied <= w.applied {
		return nil
	}
	began := time.Now()
	merged := &layer{}
	for _, l := range layers {
		merged.merge(l)
	}
	tx, err := w.bolt.Begin(true)
	if err != nil {
		return mapErr(err)
	}
	if err := merged.applySorted(tx); err != nil {
		tx.Rollback() //nolint:errcheck
		return fmt.Errorf("store/bbolt: checkpoint: %w", err)
	}
	if err := putWALState(tx, walState{id: w.id, applied: applied}); err != nil {
		tx.Rollback() //nolint:errcheck
		return err
	}
	applyTime := time.Since(began)
	err = tx.Commit()
	st := tx.Stats()
	w.statMu.Lock()
	w.stats.Checkpoints++
	w.stats.CheckpointTime += time.Since(began)
	w.stats.ApplyTime += applyTime
	w.stats.SpillTime += st.GetSpillTime()
	w.stats.WriteTime += st.GetWriteTime()
	w.stats.Writes += st.GetWrite()
	w.stats.PageBytes += st.GetPageAlloc()
	w.statMu.Unlock()
	if err != nil {
		return mapErr(err)
	}
	w.applied = applied
	w.pmu.Lock()
	w.pending = append([]*layer(nil), w.pending[len(layers):]...)
	w.pmu.Unlock()
	return nil
}

// finalCheckpoint runs when the writer has stopped: everything pending goes into bbolt, and the log files are
// removed, so that a cleanly stopped store is its one file (a backup restored over it finds no log of another
// store beside it). If the checkpoint fails, the log stays, and the next open replays it.
func (w *groupWriter) finalCheckpoint() {
	if w.checkpoint(true) != nil {
		return
	}
	for slot := 0; slot < 2; slot++ {
		os.Remove(walSlotName(w.path, slot)) //nolint:errcheck // in bbolt already; a file left is recognised as applied
	}
	syncDir(filepath.Dir(w.path)) //nolint:errcheck // as above
}

func (w *groupWriter) count(run time.Duration) {
	w.statMu.Lock()
	defer w.statMu.Unlock()
	w.stats.RunTime += run
	w.stats.Calls++
}

func (w *groupWriter) countCommit(calls int, committed bool, d time.Duration) {
	w.statMu.Lock()
	defer w.statMu.Unlock()
	w.stats.Groups++
	w.stats.MaxGroup = max(w.stats.MaxGroup, calls)
	w.stats.CommitTime += d
	if committed {
		w.stats.Commits++
	} else {
		w.stats.Rollbacks++
	}
}

// answer ends a call that will not be committed (its own error). A call that already got its ran answer only
// gets done.
func (c *writeCall) answer(err error) {
	if c.ran != nil && !c.ranSent {
		c.ran <- err
		c.ranSent = true
	}
	c.done <- err
}

// call runs fn on the overlay, turning a panic into errPanicked (the caller panics again with the value).
func (c *writeCall) call(ov *overlay) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.panicked, err = p, errPanicked
		}
	}()
	return c.fn(ov)
}

// layer is a set of writes: per bucket, key to value or deletion.
type layer struct {
	buckets map[string]map[string]oentry
	// max is each bucket's greatest key written (put or deleted): Last's candidate without going over the keys
	max map[string]string
	n   int
	// seen has one bit set per key written (keyBit): a read goes through some twenty layers (the groups not yet
	// checkpointed), and most hold none of its keys; the bit tells so without the map lookups
	seen [4]uint64
}

var keySeed = maphash.MakeSeed()

// keyBit is the bit of layer.seen a key sets: word and mask.
func keyBit(key string) (int, uint64) {
	h := maphash.String(keySeed, key)
	return int(h>>6) & 3, 1 << (h & 63)
}

type oentry struct {
	v   []byte
	del bool
}

func (l *layer) empty() bool { return l.n == 0 }

// reuse empties the layer for another call, keeping its maps' storage (a bucket's map that grew large is let go).
func (l *layer) reuse() {
	for name, b := range l.buckets {
		if len(b) > 1024 {
			delete(l.buckets, name)
		} else {
			clear(b)
		}
	}
	clear(l.max)
	l.n = 0
	l.seen = [4]uint64{}
}

func (l *layer) set(bucket, key string, e oentry) {
	if l.buckets == nil {
		l.buckets = map[string]map[string]oentry{}
	}
	b := l.buckets[bucket]
	if b == nil {
		b = map[string]oentry{}
		l.buckets[bucket] = b
	}
	b[key] = e
	l.n++
	w, m := keyBit(key)
	l.seen[w] |= m
	if l.max == nil {
		l.max = map[string]string{}
	}
	if m, ok := l.max[bucket]; !ok || key > m {
		l.max[bucket] = key
	}
}

func (l *layer) entry(bucket, key string) (oentry, bool) {
	w, m := keyBit(key)
	return l.entryBit(bucket, key, w, m)
}

// entryBit is entry with the key's bit worked out already.
func (l *layer) entryBit(bucket, key string, w int, m uint64) (oentry, bool) {
	if l.n == 0 || l.seen[w]&m == 0 {
		return oentry{}, false
	}
	e, ok := l.buckets[bucket][key]
	return e, ok
}

// merge adds o's writes over l's.
func (l *layer) merge(o *layer) {
	for name, b := range o.buckets {
		for k, e := range b {
			l.set(name, k, e)
		}
	}
}

// overlay is the KVTx a function runs on in a group: its writes go to its own layer, which joins the group's
// writes only when the function returns nil. Reads see its own layer, then the layers below (the group's writes,
// the group being committed, the pending groups newest first), then the read transaction. A View reads through
// the pending groups the same way (readOnly).
type overlay struct {
	tx       *bolt.Tx
	own      layer
	below    []*layer // newest first
	readOnly bool     // a View's: writes fail as on a read-only bbolt transaction
}

// lookup finds key in the layers, newest first.
func (o *overlay) lookup(bucket, key string) (oentry, bool) {
	w, m := keyBit(key)
	if e, ok := o.own.entryBit(bucket, key, w, m); ok {
		return e, true
	}
	for _, l := range o.below {
		if e, ok := l.entryBit(bucket, key, w, m); ok {
			return e, true
		}
	}
	return oentry{}, false
}

func (o *overlay) Get(bucket string, key []byte) ([]byte, error) {
	if e, ok := o.lookup(bucket, string(key)); ok {
		if e.del {
			return nil, store.ErrNotFound
		}
		return e.v, nil
	}
	return kvTx{o.tx}.Get(bucket, key)
}

// Put checks what bbolt would refuse now, so that applying the writes later cannot fail half-way.
func (o *overlay) Put(bucket string, key, value []byte) error {
	switch {
	case o.readOnly:
		return errReadOnlyTx
	case bucket == "":
		return bolterrors.ErrBucketNameRequired
	case len(key) == 0:
		return bolterrors.ErrKeyRequired
	case len(key) > bolt.MaxKeySize:
		return bolterrors.ErrKeyTooLarge
	case len(value) > bolt.MaxValueSize:
		return bolterrors.ErrValueTooLarge
	}
	o.own.set(bucket, string(key), oentry{v: append([]byte{}, value...)})
	return nil
}

func (o *overlay) Delete(bucket string, key []byte) error {
	if o.readOnly {
		return errReadOnlyTx
	}
	o.own.set(bucket, string(key), oentry{del: true})
	return nil
}

// touched tells whether any layer holds bucket.
func (o *overlay) touched(bucket string) bool {
	if o.own.n > 0 && len(o.own.buckets[bucket]) > 0 {
		return true
	}
	for _, l := range o.below {
		if l.n > 0 && len(l.buckets[bucket]) > 0 {
			return true
		}
	}
	return false
}

// merged returns the layers' entries of bucket with prefix that are >= seek, newest layer winning, in key order
// (a copy: the function may write while it scans).
func (o *overlay) merged(bucket string, prefix, seek []byte) []okv {
	seen := map[string]oentry{}
	layers := append([]*layer{&o.own}, o.below...)
	for i := len(layers) - 1; i >= 0; i-- { // oldest first, newer ones overwrite
		for k, e := range layers[i].buckets[bucket] {
			if k >= string(seek) && strings.HasPrefix(k, string(prefix)) {
				seen[k] = e
			}
		}
	}
	out := make([]okv, 0, len(seen))
	for k, e := range seen {
		out = append(out, okv{k, e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}

type okv struct {
	k string
	e oentry
}

func (o *overlay) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	if !o.touched(bucket) {
		return kvTx{o.tx}.Scan(bucket, prefix, start, fn)
	}
	seek := prefix
	if string(start) > string(seek) {
		seek = start
	}
	mine := o.merged(bucket, prefix, seek)
	var (
		c      *bolt.Cursor
		bk, bv []byte
	)
	if b := o.tx.Bucket([]byte(bucket)); b != nil {
		c = b.Cursor()
		if len(seek) == 0 {
			bk, bv = c.First()
		} else {
			bk, bv = c.Seek(seek)
		}
	}
	for {
		if bk != nil && !bytes.HasPrefix(bk, prefix) {
			bk = nil
		}
		if bk == nil && len(mine) == 0 {
			return nil
		}
		var k, v []byte
		if len(mine) > 0 && (bk == nil || mine[0].k <= string(bk)) {
			e := mine[0]
			mine = mine[1:]
			if bk != nil && e.k == string(bk) {
				bk, bv = c.Next() // the layers' entry replaces the stored one
			}
			if e.e.del {
				continue
			}
			k, v = []byte(e.k), e.e.v
		} else {
			k, v = bk, bv
			bk, bv = c.Next()
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
}

func (o *overlay) Last(bucket string) ([]byte, []byte, error) {
	if !o.touched(bucket) {
		return kvTx{o.tx}.Last(bucket)
	}
	// the greatest key the layers hold live (each key as its newest layer has it): the greatest key they wrote,
	// when it is live (always so for an append-only bucket such as the audit log's); otherwise over their keys
	var mk string
	var mv []byte
	found := false
	greatest := func(l *layer) {
		if k, ok := l.max[bucket]; ok && (!found || k > mk) {
			mk, found = k, true
		}
	}
	greatest(&o.own)
	for _, l := range o.below {
		greatest(l)
	}
	if found {
		e, _ := o.lookup(bucket, mk)
		mv = e.v
		if e.del {
			found = false
			each := func(l *layer) {
				for k := range l.buckets[bucket] {
					if found && k <= mk {
						continue
					}
					if e, _ := o.lookup(bucket, k); !e.del {
						mk, mv, found = k, e.v, true
					}
				}
			}
			each(&o.own)
			for _, l := range o.below {
				each(l)
			}
		}
	}
	var bk, bv []byte
	if b := o.tx.Bucket([]byte(bucket)); b != nil {
		c := b.Cursor()
		for bk, bv = c.Last(); bk != nil; bk, bv = c.Prev() {
			if _, touched := o.lookup(bucket, string(bk)); !touched {
				break // stored and untouched by the layers (touched keys are the layers' to answer)
			}
		}
	}
	switch {
	case bk == nil && !found:
		return nil, nil, store.ErrNotFound
	case bk == nil || (found && mk > string(bk)):
		return []byte(mk), mv, nil
	}
	return bk, bv, nil
}
