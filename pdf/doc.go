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
// Encrypted documents of the standard security handler with the empty user password (RC4 40 to 128 bits, AES-128
// and AES-256, including crypt filters) are decrypted as objects are read: strings when an object is parsed,
// stream data when it is read, so that callers compare decrypted content. The strings that are never encrypted
// stay as they are: a signature dictionary's /Contents, the /Encrypt dictionary, cross-reference streams, and the
// metadata stream under /EncryptMetadata false. A document needing another password, or another security handler,
// is reported (Reader.DecryptErr) and its objects are refused. An incremental update of an encrypted document is
// encrypted the same way.
//
// It is not a general PDF library: it does not render, does not repair broken cross-reference tables, and decodes
// only FlateDecode streams.
package pdf
