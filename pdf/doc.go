// Package pdf reads and incrementally updates PDF files at the level trustsign's PAdES code needs: the
// cross-reference structure (classic tables, cross-reference streams, hybrid files, object streams, linearized
// files), the revisions made by incremental updates, individual objects on demand, the page tree, and an
// incremental-update writer that appends objects and a cross-reference section of the same kind as the previous
// one.
//
// The reader works over an io.ReaderAt and reads only the cross-reference data and the objects asked for, so a
// 100 MB file costs a few kilobytes of memory. Everything it parses is bounded (see Limits): nesting depth,
// string and stream sizes, decompressed sizes (deflate bombs), /Prev chains and loops, object-stream cycles and
// object numbers. Dictionaries that repeat a key are rejected as ambiguous.
//
// It is not a general PDF library: it does not render, does not decrypt (it only reports that a file is
// encrypted), does not repair broken cross-reference tables, and decodes only FlateDecode streams.
package pdf
