package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
)

// decode applies the stream's filters to raw, producing at most max bytes. Only FlateDecode (with PNG and TIFF
// predictors) is supported: it is what object and cross-reference streams use.
func decode(d Dict, raw []byte, max int64, resolve func(Object) Object) ([]byte, error) {
	filters := resolve(d["Filter"])
	parms := resolve(d["DecodeParms"])
	var fl []Name
	var pl []Object
	switch f := filters.(type) {
	case nil:
	case Name:
		fl = []Name{f}
		pl = []Object{parms}
	case Array:
		if len(f) > 8 {
			return nil, malformed("too many filters")
		}
		for i, e := range f {
			n, ok := resolve(e).(Name)
			if !ok {
				return nil, malformed("filter is not a name")
			}
			fl = append(fl, n)
			if pa, ok := parms.(Array); ok && i < len(pa) {
				pl = append(pl, resolve(pa[i]))
			} else {
				pl = append(pl, nil)
			}
		}
	default:
		return nil, malformed("bad /Filter")
	}
	data := raw
	for i, f := range fl {
		switch f {
		case "FlateDecode", "Fl":
			out, err := inflate(data, max)
			if err != nil {
				return nil, err
			}
			p, _ := pl[i].(Dict)
			if out, err = unpredict(out, p, resolve); err != nil {
				return nil, err
			}
			data = out
		case "Crypt":
			// Decrypted when the raw data was read (see Reader.RawStream).
		default:
			return nil, malformed("unsupported filter /%s", f)
		}
	}
	if int64(len(data)) > max {
		return nil, limit("decoded stream larger than %d bytes", max)
	}
	return data, nil
}

// inflate decompresses zlib data, refusing to produce more than max bytes (deflate bombs).
func inflate(b []byte, max int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, malformed("flate: %v", err)
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, max+1))
	if n > max {
		return nil, limit("decompressed stream larger than %d bytes (deflate bomb?)", max)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, malformed("flate: %v", err)
	}
	return out.Bytes(), nil
}

func unpredict(b []byte, p Dict, resolve func(Object) Object) ([]byte, error) {
	if p == nil {
		return b, nil
	}
	get := func(k Name, def int64) int64 {
		if v, ok := resolve(p[k]).(Integer); ok {
			return int64(v)
		}
		return def
	}
	pred := get("Predictor", 1)
	if pred <= 1 {
		return b, nil
	}
	colors, bpc, cols := get("Colors", 1), get("BitsPerComponent", 8), get("Columns", 1)
	if colors < 1 || colors > 32 || bpc < 1 || bpc > 16 || cols < 1 || cols > 1<<20 {
		return nil, malformed("bad predictor parameters")
	}
	bpp := int((colors*bpc + 7) / 8)
	row := int((colors*bpc*cols + 7) / 8)
	if pred == 2 {
		if bpc != 8 {
			return nil, malformed("unsupported TIFF predictor depth")
		}
		for i := 0; i+row <= len(b); i += row {
			for j := bpp; j < row; j++ {
				b[i+j] += b[i+j-bpp]
			}
		}
		return b, nil
	}
	if pred < 10 {
		return nil, malformed("unsupported predictor %d", pred)
	}
	out := make([]byte, 0, len(b))
	prev := make([]byte, row)
	cur := make([]byte, row)
	for i := 0; i < len(b); i += row + 1 {
		if i+1 > len(b) {
			break
		}
		ft := b[i]
		end := i + 1 + row
		if end > len(b) {
			end = len(b)
		}
		clear(cur)
		copy(cur, b[i+1:end])
		for j := 0; j < row; j++ {
			var a, up, c byte
			if j >= bpp {
				a = cur[j-bpp]
				c = prev[j-bpp]
			}
			up = prev[j]
			switch ft {
			case 0:
			case 1:
				cur[j] += a
			case 2:
				cur[j] += up
			case 3:
				cur[j] += byte((int(a) + int(up)) / 2)
			case 4:
				cur[j] += paeth(a, up, c)
			default:
				return nil, malformed("bad PNG filter type %d", ft)
			}
		}
		out = append(out, cur[:end-i-1]...)
		prev, cur = cur, prev
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
