# Prints the unencrypted source document of the fixtures (qpdf writes its cross-reference table): strings of
# every kind (literal, hex, UTF-16, empty, an annotation's /Contents, a form field's value), a content stream, an
# XMP metadata stream and an embedded file.
import sys
content = b"BT /F1 24 Tf 72 720 Td (Encrypted test page) Tj ET"
xmp = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>Test</dc:title></x:xmpmeta><?xpacket end="w"?>'
embedded = b"Attached file body: 100 PLN\n"
objs = [
    b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /AcroForm << /Fields [8 0 R] >> /Names << /EmbeddedFiles << /Names [(umowa.txt) 9 0 R] >> >> >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R /Annots [7 0 R 8 0 R] >>",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp + b"\nendstream",
    b"<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (A note \\(with parentheses\\)) /NM <FEFF017C00F3014200E7> /M () >>",
    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (Kwota) /V (100 PLN) /Rect [100 100 200 120] /P 3 0 R >>",
    b"<< /Type /Filespec /F (umowa.txt) /UF (umowa.txt) /EF << /F 10 0 R >> >>",
    b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(embedded) + embedded + b"\nendstream",
    b"<< /Title (Encrypted fixture) /Author <414E4E4120544553544F5741> /Subject (\\000\\001\\377 binary) >>",
]
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R /Info 11 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
sys.stdout.buffer.write(bytes(out))
