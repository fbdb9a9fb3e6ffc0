// suggest: "did you mean …?" for names that are one typo away from a real one.

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

// " (did you mean X?)" for the closest candidate within a few edits, else "".
export function didYouMean(name, candidates) {
  let best = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) > bestDist) continue;
    const dist = levenshtein(name, c);
    if (dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return best !== null && bestDist > 0 && bestDist <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}
