package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/trustsign/trustsign/store"
)

// Group commit. Every Update and Batch (WriteGroupCommit, the default) is queued to one writer. The writer takes
// everything queued, runs the transaction functions one after another, commits their writes in ONE bbolt
// transaction (bbolt's two fdatasyncs) and only then answers every caller. While a commit is on the disk, new
// callers queue up and become the next group, so the number of commits per second is bounded by the disk and not by
// the callers: a group costs one commit however many functions it carries. There is no timer: a caller alone is
// committed at once.
//
// The writer is two goroutines, so that running a group's functions overlaps the commit of the group before it:
// the executor runs group n's functions while the committer writes group n-1 to the disk. Group n's functions read
// through layers: their own writes, the writes of the functions before them in group n, group n-1's writes (being
// committed), and below them a bbolt read transaction opened after group n-2 was committed. Groups commit in the
// order they ran; a group whose commit fails takes the next group down with it (that one read its writes), and the
// executor runs the group after on the committed state alone.
//
// Each function is isolated. It writes into its own buffer, reading its own writes first; when it returns nil its
// buffer joins the group's writes, when it returns an error (or panics) the buffer is dropped, so only its own
// changes are rolled back and neither the group nor the other functions run again (bbolt's DB.Batch rolls the whole
// batch back and re-runs the others). The functions run in queue order, each seeing exactly the writes of those
// before it: the groups are serializable. A commit that fails fails every function whose writes it carried. A
// group in which no function wrote anything is not committed (no fsync).

// groupWriter is the writer: the executor and committer goroutines and the queue.
type groupWriter struct {
	bolt     *bolt.DB
	maxGroup int

	mu      sync.Mutex
	queue   []*writeCall
	closed  bool
	wake    chan struct{} // one pending wake-up
	commits chan *group   // executed groups, to the committer
	stopped chan struct{} // closed when both goroutines have ended
	// committerDone is closed when the committer has ended
	committerDone chan struct{}
	// prev and prevPrev are the last two groups handed to the committer (the executor's alone)
	prev, prevPrev *group

	// groups is the number of groups begun; failed the number of the last one whose commit failed (0: none).
	// A call made after UpdateAhead (its context says after which group, see store.DB.UpdateAhead) is failed
	// without running when that group or a later one failed: it must not commit when the write before it was lost.
	groups atomic.Uint64
	failed atomic.Uint64
	stats  GroupCommitStats
	statMu sync.Mutex
}

// GroupCommitStats counts the writer's work since Open.
type GroupCommitStats struct {
	// Calls is the number of transaction functions run, Groups the number of groups, Commits the commits made
	// (groups with writes), Rollbacks the groups that wrote nothing.
	Calls, Groups, Commits, Rollbacks uint64
	// MaxGroup is the largest group.
	MaxGroup int
	// RunTime is the time spent running functions, CommitTime the time spent in commits (writing and fsyncing);
	// they overlap.
	RunTime, CommitTime time.Duration
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
	// ranSent and answered: the writer answered ran, done (only the goroutine holding the call touches them)
	ranSent, answered bool
}

// group is one executed group on its way to the disk.
type group struct {
	num     uint64
	writes  layer        // the writes of its functions that returned nil, merged in order
	carried []*writeCall // those functions' calls
	// base is the group whose writes this one read (being committed when this one ran), nil when none; its commit
	// failing fails this one.
	base *group
	// committed is closed when the committer is done with the group; err is then the commit's result.
	committed chan struct{}
	err       error
}

func newGroupWriter(b *bolt.DB, maxGroup int) *groupWriter {
	w := &groupWriter{bolt: b, maxGroup: maxGroup, wake: make(chan struct{}, 1), commits: make(chan *group, 1),
		stopped: make(chan struct{}), committerDone: make(chan struct{})}
	go func() { w.commit(); close(w.committerDone) }()
	go w.executor()
	return w
}

// executor runs the executor until the writer closes, then lets the committer finish.
func (w *groupWriter) executor() {
	normal := false
	defer func() {
		if !normal {
			// a function ended this goroutine with runtime.Goexit (t.FailNow in a test): execute failed its
			// group; the queue goes on in a new executor
			go w.executor()
			return
		}
		close(w.commits)
		<-w.committerDone
		close(w.stopped)
	}()
	w.run()
	normal = true
}

// errGoexit is the result of the functions of a group in which one called runtime.Goexit.
var errGoexit = errors.New("store/bbolt: a transaction function of the group called runtime.Goexit")

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

// updateAhead runs fn in the next group and returns fn's own result and the group's number as soon as fn has
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
}

// run is the executor's loop: it takes the queue a group at a time and runs its functions.
func (w *groupWriter) run() {
	for {
		<-w.wake
		for {
			w.mu.Lock()
			n := min(len(w.queue), w.maxGroup)
			calls := w.queue[:n:n]
			w.queue = w.queue[n:]
			if len(w.queue) == 0 {
				w.queue = nil
			}
			closed := w.closed && n == 0
			w.mu.Unlock()
			if closed {
				return
			}
			if n == 0 {
				break
			}
			g := w.execute(calls, w.base())
			if g == nil {
				continue
			}
			w.prevPrev, w.prev = w.prev, g
			w.commits <- g
		}
	}
}

// base is what the next group reads over the committed state: the last group handed to the committer while it is
// being committed, nil when it is committed already (the read transaction then sees it) or will fail (its own base
// failed: nothing of it will be there). The group before it must be committed first, so that the read transaction
// opened next includes it.
func (w *groupWriter) base() *group {
	if pp := w.prevPrev; pp != nil {
		<-pp.committed
		pp.base = nil // the committer is done with it; do not keep a chain of groups alive
	}
	p := w.prev
	if p == nil {
		return nil
	}
	if p.base != nil && p.base.err != nil {
		// p read writes that were lost: it will fail, and so must any call made after it (UpdateAhead)
		w.setFailed(p.num)
		return nil
	}
	select {
	case <-p.committed:
		return nil
	default:
		return p
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

// execute runs one group's functions over base (a group being committed, or nil) and the committed state, and
// returns it for the committer (nil when none of its calls was taken).
func (w *groupWriter) execute(calls []*writeCall, base *group) *group {
	var taken []*writeCall
	for _, c := range calls {
		if c.state.CompareAndSwap(callQueued, callTaken) {
			taken = append(taken, c)
		} // else its caller gave up before it ran: it never runs
	}
	if len(taken) == 0 {
		return nil
	}
	g := &group{num: w.groups.Add(1), base: base, committed: make(chan struct{})}
	began := time.Now()
	rtx, err := w.bolt.Begin(false)
	if err != nil {
		err = mapErr(err)
		for _, c := range taken {
			c.answer(err)
		}
		close(g.committed)
		g.err = err
		return g
	}
	finished := false
	defer func() {
		rtx.Rollback() //nolint:errcheck // read-only
		if !finished {
			// runtime.Goexit in a function (t.FailNow in a test) ends this goroutine: nothing of the group
			// commits, and the writer goes on in a new executor
			for _, c := range taken {
				if !c.answered {
					c.answer(errGoexit)
				}
			}
			g.err = errGoexit
			close(g.committed)
		}
	}()
	var below []*layer
	if base != nil {
		below = []*layer{&base.writes}
	}
	ov := overlay{tx: rtx, below: append([]*layer{&g.writes}, below...)}
	for _, c := range taken {
		if c.after != 0 && w.failed.Load() >= c.after {
			c.answer(fmt.Errorf("%w: the write this transaction came after was not committed", store.ErrUnavailable))
			continue
		}
		c.group = g.num
		ov.reset()
		if err := c.call(&ov); err != nil {
			c.answer(err) // only this call's writes are dropped
			continue
		}
		g.writes.merge(&ov.own)
		if c.ran != nil {
			c.ran <- nil
			c.ranSent = true
		}
		g.carried = append(g.carried, c)
	}
	finished = true
	w.count(len(taken), time.Since(began))
	return g
}

// commit is the committer: it writes the executed groups to the disk, in order, and answers their callers.
func (w *groupWriter) commit() {
	for g := range w.commits {
		if g.err != nil { // never ran (the executor answered its calls)
			continue
		}
		began := time.Now()
		var err error
		wrote := !g.writes.empty()
		switch {
		case g.base != nil && g.base.err != nil:
			err = fmt.Errorf("%w: the commit before this transaction's failed: %w", store.ErrUnavailable, g.base.err)
		case wrote:
			err = w.commitWrites(&g.writes)
		}
		if err != nil {
			w.setFailed(g.num)
		}
		g.err = err
		w.countCommit(wrote && err == nil, time.Since(began))
		close(g.committed)
		for _, c := range g.carried {
			c.answered = true
			c.done <- err
		}
	}
}

// commitWrites writes one group's writes in one bbolt transaction and commits it.
func (w *groupWriter) commitWrites(l *layer) error {
	tx, err := w.bolt.Begin(true)
	if err != nil {
		return mapErr(err)
	}
	if err := l.apply(tx); err != nil {
		tx.Rollback() //nolint:errcheck
		return fmt.Errorf("store/bbolt: applying a group's writes: %w", err)
	}
	return mapErr(tx.Commit())
}

func (w *groupWriter) count(calls int, run time.Duration) {
	w.statMu.Lock()
	defer w.statMu.Unlock()
	w.stats.RunTime += run
	w.stats.Calls += uint64(calls)
	w.stats.Groups++
	w.stats.MaxGroup = max(w.stats.MaxGroup, calls)
}

func (w *groupWriter) countCommit(committed bool, d time.Duration) {
	w.statMu.Lock()
	defer w.statMu.Unlock()
	w.stats.CommitTime += d
	if committed {
		w.stats.Commits++
	} else {
		w.stats.Rollbacks++
	}
}

// answer ends a call that will not be committed (its error, or the group's failure). A call that already got
// its ran answer only gets done.
func (c *writeCall) answer(err error) {
	if c.ran != nil && !c.ranSent {
		c.ran <- err
		c.ranSent = true
	}
	c.answered = true
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
	n       int
}

type oentry struct {
	v   []byte
	del bool
}

func (l *layer) empty() bool { return l.n == 0 }

func (l *layer) clear() {
	if l.n > 0 {
		clear(l.buckets)
		l.n = 0
	}
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
}

func (l *layer) entry(bucket, key string) (oentry, bool) {
	if l.n == 0 {
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

// apply writes the layer into a read-write transaction.
func (l *layer) apply(tx *bolt.Tx) error {
	k := kvTx{tx}
	for name, b := range l.buckets {
		for key, e := range b {
			var err error
			if e.del {
				err = k.Delete(name, []byte(key))
			} else {
				err = k.Put(name, []byte(key), e.v)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// overlay is the KVTx a function runs on in a group: its writes go to its own layer, which joins the group's
// writes only when the function returns nil. Reads see its own layer, then the layers below (the group's writes,
// the group being committed), then the read transaction.
type overlay struct {
	tx    *bolt.Tx
	own   layer
	below []*layer // newest first
}

func (o *overlay) reset() { o.own.clear() }

// lookup finds key in the layers, newest first.
func (o *overlay) lookup(bucket, key string) (oentry, bool) {
	if e, ok := o.own.entry(bucket, key); ok {
		return e, true
	}
	for _, l := range o.below {
		if e, ok := l.entry(bucket, key); ok {
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
	o.own.set(bucket, string(key), oentry{del: true})
	return nil
}

// touched tells whether any layer holds bucket.
func (o *overlay) touched(bucket string) bool {
	if o.own.n > 0 && o.own.buckets[bucket] != nil {
		return true
	}
	for _, l := range o.below {
		if l.n > 0 && l.buckets[bucket] != nil {
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
	// the greatest key the layers hold live (each key as its newest layer has it)
	var mk string
	var mv []byte
	found := false
	for _, l := range append([]*layer{&o.own}, o.below...) {
		for k := range l.buckets[bucket] {
			if found && k <= mk {
				continue
			}
			if e, _ := o.lookup(bucket, k); !e.del {
				mk, mv, found = k, e.v, true
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
