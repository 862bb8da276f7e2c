//! Table scans: a catalog table's files, or (in a step) a table value already in the graph.

use super::*;

impl Translator<'_> {
    pub(super) fn scan(&mut self, scan: &TableScan) -> Result<TableValue, SqlError> {
        let name = scan.table_name.table();
        if let Some(&(_, bound)) = self.bound.iter().find(|(n, _)| n == name) {
            return self.bound_scan(bound, scan);
        }
        let table = self.catalog.table(name).ok_or_else(|| SqlError {
            message: format!("table '{name}' not found"),
            position: None,
        })?;
        let indices: Vec<usize> = match &scan.projection {
            // No columns (only rows are counted): read the first, project it away below.
            Some(p) if p.is_empty() => vec![0],
            Some(p) => p.clone(),
            None => (0..table.schema.fields().len()).collect(),
        };
        let mut names = column_names(&scan.projected_schema);
        let no_columns = names.is_empty();
        if no_columns {
            names.push(format!("{name}.{}", table.schema.field(0).name()));
        }
        let mut schema = Vec::new();
        let mut file_columns = Vec::new();
        for (i, name) in indices.iter().zip(&names) {
            let field = table.schema.field(*i);
            let ty = ColumnType::from_arrow(field.data_type()).map_err(|e| SqlError {
                message: e.to_string(),
                position: None,
            })?;
            schema.push(Column::new(name, ty, field.is_nullable()));
            file_columns.push(field.name().clone());
        }
        let files: Vec<String> = table.files.iter().map(|p| p.display().to_string()).collect();
        let loc = self.loc(None);
        let mut out = self
            .g
            .source(&table.name, table.format.name(), &files, &file_columns, schema, &loc);
        if no_columns {
            out = self.g.project(out, &[], Vec::new(), &loc);
        }
        self.pushed_into_scan(out, scan, &loc)
    }

    /// A step's scan: the bound table's columns the scan projects, under its names.
    pub(super) fn bound_scan(&mut self, bound: TableValue, scan: &TableScan) -> Result<TableValue, SqlError> {
        let have = self.schema_of(bound);
        let indices: Vec<usize> = match &scan.projection {
            Some(p) => p.clone(),
            None => (0..have.len()).collect(),
        };
        let names = column_names(&scan.projected_schema);
        let loc = self.loc(None);
        let columns: Vec<String> = indices.iter().map(|&i| have[i].name.clone()).collect();
        let out = indices
            .iter()
            .zip(&names)
            .map(|(&i, n)| Column::new(n, have[i].ty, have[i].nullable))
            .collect();
        let out = self.g.project(bound, &columns, out, &loc);
        self.pushed_into_scan(out, scan, &loc)
    }

    /// What DataFusion pushed into a scan, over the scanned rows: its filters, then its
    /// fetch.
    fn pushed_into_scan(
        &mut self,
        mut out: TableValue,
        scan: &TableScan,
        loc: &SourceLoc,
    ) -> Result<TableValue, SqlError> {
        if let Some(predicate) = datafusion::logical_expr::utils::conjunction(scan.filters.clone()) {
            out = self.filter_expr(out, &scan.projected_schema, &predicate)?;
        }
        if let Some(fetch) = scan.fetch {
            out = self.g.limit(out, 0, Some(fetch), loc);
        }
        Ok(out)
    }
}
