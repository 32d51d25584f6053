/**
 * A small grouped bar chart as SVG text: one group per mix, one bar per client set-up. Hand-written (no chart
 * library): a few rectangles, labels and a scale are all the benchmark page needs.
 */

/** One group of bars. */
export interface BarGroup {
  label: string;
  values: number[];
}

const colours = ["#8c8c8c", "#2b6cb0", "#d69e2e", "#38a169"];

const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** An SVG of `groups` (each with one value per series), titled, with a y axis in `unit`. */
export function barChart(options: { title: string; unit: string; series: string[]; groups: BarGroup[] }): string {
  const width = 640;
  const height = 360;
  const left = 64;
  const bottom = 56;
  const top = 48;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...options.groups.flatMap((group) => group.values));
  const step = niceStep(max / 5);
  const ceiling = Math.ceil(max / step) * step;
  const y = (value: number) => top + plotHeight - (value / ceiling) * plotHeight;
  const groupWidth = (width - left - 16) / options.groups.length;
  const barWidth = Math.min(56, (groupWidth * 0.8) / options.series.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escape(options.title)}</text>`,
  ];
  for (let tick = 0; tick <= ceiling + step / 2; tick += step) {
    parts.push(
      `<line x1="${left}" x2="${width - 16}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e2e2e2"/>`,
      `<text x="${left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${tick}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escape(options.unit)}</text>`,
  );
  options.groups.forEach((group, g) => {
    const start = left + g * groupWidth + (groupWidth - barWidth * options.series.length) / 2;
    group.values.forEach((value, s) => {
      const x = start + s * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(value).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(top + plotHeight - y(value)).toFixed(1)}" fill="${colours[s % colours.length]}"/>`,
        `<text x="${(x + (barWidth - 4) / 2).toFixed(1)}" y="${(y(value) - 4).toFixed(1)}" text-anchor="middle">${Math.round(value)}</text>`,
      );
    });
    parts.push(
      `<text x="${(left + (g + 0.5) * groupWidth).toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle">${escape(group.label)}</text>`,
    );
  });
  options.series.forEach((name, s) => {
    const x = left + s * 150;
    parts.push(
      `<rect x="${x}" y="${height - 24}" width="12" height="12" fill="${colours[s % colours.length]}"/>`,
      `<text x="${x + 18}" y="${height - 14}">${escape(name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** 1, 2 or 5 times a power of ten, at least `raw`: round tick steps. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}
