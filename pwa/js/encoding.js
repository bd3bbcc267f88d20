// The format and quality the tablet stores a photo in, chosen by measuring
// (bench/photobytes.py, bench/RESULTS.md §1b, on 20 varied 12 MP photos): JPEG 0.5
// keeps the median photo within 150 kB (148 kB, median SSIM 0.886), as WebP 0.75 does
// (136 kB, SSIM 0.874): at the same SSIM the two are even. JPEG wins elsewhere: it
// encodes about five times faster on the tablet (the preview waits for it), and the
// server keeps a fitting JPEG's bytes as they are (sync/jpeg.py) where it must decode a
// WebP and encode a JPEG: ×10 the colis per second per worker (bench/RESULTS.md §4).

export const ENCODING = { type: 'image/jpeg', quality: 0.5 };
