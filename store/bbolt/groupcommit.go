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

// Group commit. Every Update and Batch (WriteGroupCommit, the default) is queued to one writer goroutine. The
// writer takes everything queued, runs the transaction functions one after another inside ONE bbolt read-write
// transaction, commits it (bbolt's two fdatasyncs) and only then answers every caller. While a commit is on the
// disk, new callers queue up and become the next group, so the number of commits per second is bounded by the disk
// and not by the callers: a group costs one commit however many functions it carries. There is no timer: a caller
// alone is committed at once.
//
// Each function is isolated. It writes into its own buffer (overlay), reading its own writes first and the shared
// transaction (the writes of the functions before it in the group) below them. When it returns nil its buffer is
// applied to the shared transaction; when it returns an error (or panics) the buffer is dropped, so only its own
// changes are rolled back and neither the group nor the other functions run again (bbolt's DB.Batch rolls the whole
// batch back and re-runs the others). The functions of a group run in queue order, so the group is serializable:
// each function sees exactly the writes of those before it. A commit that fails fails every function whose writes it
// carried. A group in which no function wrote anything is rolled back instead of committed (no fsync).

// groupWriter is the writer goroutine and its queue.
type groupWriter struct {
	bolt     *bolt.DB
	maxGroup int

	mu      sync.Mutex
	queue   []*writeCall
	closed  bool
	wake    chan struct{} // one pending wake-up
	stopped chan struct{} // closed when the writer goroutine has ended

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
	// RunTime is the time spent running functions, CommitTime the time spent in commits (writing and fsyncing).
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
	// ranSent and answered: the writer answered ran, done (only the writer goroutine reads or writes them)
	ranSent, answered bool
}

func newGroupWriter(b *bolt.DB, maxGroup int) *groupWriter {
	w := &groupWriter{bolt: b, maxGroup: maxGroup, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go w.run()
	return w
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

func (w *groupWriter) run() {
	ended := false
	defer func() {
		if ended {
			close(w.stopped)
			return
		}
		// a function ended this goroutine with runtime.Goexit (t.FailNow in a test): runGroup failed its group;
		// the queue goes on in a new writer goroutine
		go w.run()
	}()
	for {
		<-w.wake
		for {
			w.mu.Lock()
			n := min(len(w.queue), w.maxGroup)
			group := w.queue[:n:n]
			w.queue = w.queue[n:]
			if len(w.queue) == 0 {
				w.queue = nil
			}
			closed := w.closed && n == 0
			w.mu.Unlock()
			if closed {
				ended = true
				return
			}
			if n == 0 {
				break
			}
			w.runGroup(group)
		}
	}
}

// runGroup runs one group in one bbolt transaction and answers its callers.
func (w *groupWriter) runGroup(group []*writeCall) {
	num := w.groups.Add(1)
	var taken []*writeCall
	for _, c := range group {
		if c.state.CompareAndSwap(callQueued, callTaken) {
			taken = append(taken, c)
		} // else its caller gave up before it ran: it never runs
	}
	if len(taken) == 0 {
		return
	}
	tx, err := w.bolt.Begin(true)
	if err != nil {
		err = mapErr(err)
		for _, c := range taken {
			c.answer(err)
		}
		return
	}
	finished := false
	defer func() {
		if !finished { // runtime.Goexit in a function: nothing of the group commits
			tx.Rollback() //nolint:errcheck
			for _, c := range taken {
				if !c.answered {
					c.answer(errGoexit)
				}
			}
		}
	}()
	var (
		carried []*writeCall // calls whose writes the commit carries
		wrote   bool
		ov      overlay
		began   = time.Now()
		ranAt   time.Time
	)
	for i, c := range taken {
		if c.after != 0 && w.failed.Load() >= c.after {
			c.answer(fmt.Errorf("%w: the write this transaction came after was not committed", store.ErrUnavailable))
			continue
		}
		c.group = num
		ov.reset(tx)
		if err := c.call(&ov); err != nil {
			c.answer(err) // only this call's writes are dropped
			continue
		}
		if ov.dirty() {
			if err := ov.apply(); err != nil {
				// the shared transaction may hold part of the buffer: nothing of this group may commit
				err = fmt.Errorf("store/bbolt: applying a transaction's writes: %w", err)
				tx.Rollback() //nolint:errcheck
				for _, o := range append(carried, taken[i:]...) {
					o.answer(err)
				}
				w.count(len(taken), false, time.Since(began), 0)
				finished = true
				return
			}
			wrote = true
		}
		if c.ran != nil {
			c.ran <- nil
			c.ranSent = true
		}
		carried = append(carried, c)
	}
	finished = true
	ranAt = time.Now()
	var commitErr error
	if wrote {
		if commitErr = mapErr(tx.Commit()); commitErr != nil {
			w.failed.Store(num)
		}
	} else {
		tx.Rollback() //nolint:errcheck // nothing was written: no commit, no fsync
	}
	for _, c := range carried {
		c.answered = true
		c.done <- commitErr
	}
	w.count(len(taken), wrote, ranAt.Sub(began), time.Since(ranAt))
}

func (w *groupWriter) count(calls int, committed bool, run, commit time.Duration) {
	w.statMu.Lock()
	defer w.statMu.Unlock()
	w.stats.RunTime += run
	w.stats.CommitTime += commit
	w.stats.Calls += uint64(calls)
	w.stats.Groups++
	if committed {
		w.stats.Commits++
	} else {
		w.stats.Rollbacks++
	}
	w.stats.MaxGroup = max(w.stats.MaxGroup, calls)
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

// overlay is the KVTx a function runs on in a group: its writes go to a buffer, applied to the shared bbolt
// transaction only when the function returns nil. Reads see the buffer over the shared transaction.
type overlay struct {
	tx      *bolt.Tx
	buckets map[string]*obucket
	n       int
}

type obucket struct {
	m map[string]oentry
}

type oentry struct {
	v   []byte
	del bool
}

func (o *overlay) reset(tx *bolt.Tx) {
	o.tx = tx
	if o.n > 0 {
		clear(o.buckets)
		o.n = 0
	}
}

func (o *overlay) dirty() bool { return o.n > 0 }

func (o *overlay) set(bucket string, key []byte, e oentry) {
	if o.buckets == nil {
		o.buckets = map[string]*obucket{}
	}
	b := o.buckets[bucket]
	if b == nil {
		b = &obucket{m: map[string]oentry{}}
		o.buckets[bucket] = b
	}
	b.m[string(key)] = e
	o.n++
}

func (o *overlay) entry(bucket string, key []byte) (oentry, bool) {
	if o.n == 0 {
		return oentry{}, false
	}
	b := o.buckets[bucket]
	if b == nil {
		return oentry{}, false
	}
	e, ok := b.m[string(key)]
	return e, ok
}

func (o *overlay) Get(bucket string, key []byte) ([]byte, error) {
	if e, ok := o.entry(bucket, key); ok {
		if e.del {
			return nil, store.ErrNotFound
		}
		return e.v, nil
	}
	return kvTx{o.tx}.Get(bucket, key)
}

// Put checks what bbolt would refuse now, so that applying the buffer later cannot fail half-way.
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
	o.set(bucket, key, oentry{v: append([]byte{}, value...)})
	return nil
}

func (o *overlay) Delete(bucket string, key []byte) error {
	o.set(bucket, key, oentry{del: true})
	return nil
}

// sortedFrom returns the buffer's entries of bucket with prefix that are >= seek, in key order (a copy: the
// function may write while it scans).
func (o *overlay) sortedFrom(bucket string, prefix, seek []byte) []okv {
	b := o.buckets[bucket]
	if b == nil {
		return nil
	}
	var out []okv
	for k, e := range b.m {
		if k >= string(seek) && strings.HasPrefix(k, string(prefix)) {
			out = append(out, okv{k, e})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}

type okv struct {
	k string
	e oentry
}

func (o *overlay) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) (bool, error)) error {
	if o.n == 0 || o.buckets[bucket] == nil {
		return kvTx{o.tx}.Scan(bucket, prefix, start, fn)
	}
	seek := prefix
	if string(start) > string(seek) {
		seek = start
	}
	mine := o.sortedFrom(bucket, prefix, seek)
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
				bk, bv = c.Next() // the buffer's entry replaces the stored one
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
	ob := o.buckets[bucket]
	if o.n == 0 || ob == nil {
		return kvTx{o.tx}.Last(bucket)
	}
	var mk string
	var mv []byte
	found := false
	for k, e := range ob.m {
		if !e.del && (!found || k > mk) {
			mk, mv, found = k, e.v, true
		}
	}
	var bk, bv []byte
	if b := o.tx.Bucket([]byte(bucket)); b != nil {
		c := b.Cursor()
		for bk, bv = c.Last(); bk != nil; bk, bv = c.Prev() {
			if _, mine := ob.m[string(bk)]; !mine {
				break // stored and untouched by the buffer (touched keys are the buffer's to answer)
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

// apply writes the buffer into the shared transaction.
func (o *overlay) apply() error {
	k := kvTx{o.tx}
	for name, b := range o.buckets {
		for key, e := range b.m {
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
