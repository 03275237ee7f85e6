import type { EChartsOption } from 'echarts';
import { BarChart, GaugeChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

// Only what report charts use (the whole library would cost ~60 MB of memory per process). A section
// that needs another chart type or component adds it here.
echarts.use([
  BarChart,
  LineChart,
  PieChart,
  ScatterChart,
  GaugeChart,
  DatasetComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  SVGRenderer,
]);

export const CHART_FONT =
  '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif';

/**
 * One chart as a standalone SVG string: Apache ECharts server-side rendering (no DOM, no browser),
 * without animation so the SVG holds the final state.
 */
export function renderChartSvg(
  option: EChartsOption,
  size: { width?: number; height?: number } = {},
): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: size.width ?? 900,
    height: size.height ?? 320,
  });
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: CHART_FONT },
      color: ['#2f6fb0', '#e08a2c', '#3a9a5b', '#c0392b', '#7d5ba6', '#5d6d7e', '#c7a02d'],
      ...option,
      title:
        option.title && !Array.isArray(option.title)
          ? { left: 'center', top: 4, textStyle: { fontSize: 14, fontWeight: 'bold' }, ...option.title }
          : option.title,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
