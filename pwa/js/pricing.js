// The price estimate: the same rules as server/cargo/pricing.py, with the same
// decimal arithmetic (Python's default context: 28 significant digits, half
// even inside divisions and products; the final roundings as the tariff says).
// Checked against tests/pricing_vectors.json by tests/test_pwa_pricing.py.

const PREC = 28;
const TEN = 10n;

function parse(value) {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(String(value));
  if (!m || (m[2] === '' && !m[3])) throw new RangeError(`not a decimal: ${value}`);
  const coef = BigInt(`${m[2]}${m[3] || ''}` || '0');
  return { c: m[1] === '-' ? -coef : coef, e: -(m[3] || '').length };
}

const pow10 = (n) => TEN ** BigInt(n);
const ndigits = (c) => (c < 0n ? -c : c).toString().length;

// Integer n / d (d > 0) rounded by `mode`, knowing whether anything was dropped beyond it.
function divInt(n, d, mode, sticky = false) {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  const r = a % d;
  const twice = 2n * r;
  let up = false;
  if (mode === 'ceiling') up = !neg && (r > 0n || sticky);
  else if (mode === 'half_up') up = twice > d || (twice === d);
  else up = twice > d || (twice === d && (sticky || q % 2n === 1n));  // half even
  if (up) q += 1n;
  return neg ? -q : q;
}

function roundPrec(x, sticky = false) {
  const n = ndigits(x.c);
  if (n <= PREC) return x;
  const drop = n - PREC;
  return { c: divInt(x.c, pow10(drop), 'half_even', sticky), e: x.e + drop };
}

function mul(a, b) {
  return roundPrec({ c: a.c * b.c, e: a.e + b.e });
}

function div(a, b) {
  if (a.c === 0n) return { c: 0n, e: 0 };
  const shift = Math.max(0, PREC + 2 + ndigits(b.c) - ndigits(a.c));
  const num = a.c * pow10(shift);
  const q = num / b.c;
  const r = num % b.c;
  return roundPrec({ c: q, e: a.e - b.e - shift }, r !== 0n);
}

function cmp(a, b) {
  const e = Math.min(a.e, b.e);
  const x = a.c * pow10(a.e - e);
  const y = b.c * pow10(b.e - e);
  return x < y ? -1 : x > y ? 1 : 0;
}

const max = (a, b) => (cmp(a, b) >= 0 ? a : b);

// Round to `places` decimals (exponent -places) by `mode`.
function quantize(x, places, mode) {
  const e = -places;
  if (x.e >= e) return { c: x.c * pow10(x.e - e), e };
  return { c: divInt(x.c, pow10(e - x.e), mode), e };
}

function format(x) {
  const places = -x.e;
  const neg = x.c < 0n;
  let digits = (neg ? -x.c : x.c).toString();
  if (places <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-places);
  digits = digits.padStart(places + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

/**
 * Price one colis under one tariff. Numbers may be strings or numbers.
 * Returns { quantity: "1.234", amount: "10500.00", currency }.
 */
export function quote(tariff, { poids, longueur, largeur, hauteur }) {
  const volume = mul(mul(parse(longueur), parse(largeur)), parse(hauteur));
  let quantity;
  if (tariff.unit === 'kg') quantity = max(parse(poids), div(volume, parse(tariff.divisor)));
  else if (tariff.unit === 'm3') quantity = div(volume, parse('1000000'));
  else throw new RangeError(`unknown tariff unit ${tariff.unit}`);
  const raw = max(parse(tariff.minimum), mul(parse(tariff.rate), quantity));
  const step = parse(tariff.round_to);
  const units = quantize(div(raw, step), 0, tariff.rounding === 'up' ? 'ceiling' : 'half_up');
  const amount = mul(units, step);
  return { quantity: format(quantize(quantity, 3, 'half_up')),
    amount: format(quantize(amount, 2, 'half_even')), currency: tariff.currency };
}

/** The tariff in force for `mode` today: the latest valid_from not in the future. */
export function currentTariff(tariffs, mode, today = new Date().toISOString().slice(0, 10)) {
  return tariffs.filter((t) => t.mode === mode && t.valid_from <= today)
    .sort((a, b) => b.valid_from.localeCompare(a.valid_from) || b.id - a.id)[0] || null;
}

/** A quote, or null when a number is missing or not positive. */
export function estimate(tariffs, mode, colis) {
  const tariff = currentTariff(tariffs, mode);
  if (!tariff) return null;
  try {
    for (const k of ['poids', 'longueur', 'largeur', 'hauteur']) {
      if (!(Number(colis[k]) > 0)) return null;
    }
    return quote(tariff, colis);
  } catch {
    return null;
  }
}
