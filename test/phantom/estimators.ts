/** ROC AUC as the Mann-Whitney statistic, ties counted one half (as the numpy reference's rankdata AUC). */
export function auc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSum = 0;
  let n1 = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k]!] === 1) {
        rankSum += midRank;
        n1++;
      }
    }
    i = j + 1;
  }
  const n0 = y.length - n1;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}
