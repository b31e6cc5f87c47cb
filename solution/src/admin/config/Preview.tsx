/** The dry run's result: counts per entity and outcome, and sample records. */
import { Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, tokens } from "@fluentui/react-components";
import type { JobView } from "../../api/admin";

export function PreviewResult({ job }: { job: JobView }) {
  const outcomes = [...new Set(job.counts.flatMap((c) => Object.keys(c.counts)))].sort();
  return (
    <section aria-labelledby="acds-preview" style={{ display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS }}>
      <Subtitle2 as="h2" id="acds-preview">Preview (nothing was written)</Subtitle2>
      {job.changes.length ? <Text>{job.changes.length} setting(s) differ from the saved configuration.</Text> : null}
      {job.counts.length ? (
        <Table size="small" aria-label="What the next sync would do">
          <TableHeader><TableRow>
            <TableHeaderCell>Entity</TableHeaderCell>
            {outcomes.map((o) => <TableHeaderCell key={o}>{o.replace(/_/g, " ")}</TableHeaderCell>)}
          </TableRow></TableHeader>
          <TableBody>
            {job.counts.map((c) => (
              <TableRow key={c.entity}>
                <TableCell>{c.entity}</TableCell>
                {outcomes.map((o) => <TableCell key={o}>{c.counts[o] ?? 0}</TableCell>)}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : <Text>No entity would sync anything.</Text>}
      {job.samples.length ? (<>
        <Subtitle2 as="h3" id="acds-preview-samples">Sample records</Subtitle2>
        <Table size="small" aria-labelledby="acds-preview-samples">
          <TableHeader><TableRow>
            <TableHeaderCell>Entity</TableHeaderCell><TableHeaderCell>Record</TableHeaderCell><TableHeaderCell>Outcome</TableHeaderCell>
          </TableRow></TableHeader>
          <TableBody>
            {job.samples.map((x) => (
              <TableRow key={`${x.entity}-${x.dynamics_id}`}>
                <TableCell>{x.entity}</TableCell><TableCell>{x.name ?? x.email ?? x.dynamics_id}</TableCell>
                <TableCell>{x.outcome.replace(/_/g, " ")}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </>) : null}
    </section>
  );
}
