//! A job's input: a directory of text, CSV or Parquet files (each file a shard) as a
//! `flow.source`, with the columns the spec selects.

use super::*;

impl Compiler<'_, '_> {
    pub(crate) fn input(&mut self, spec: &JobSpec) -> Result<TableValue, JobError> {
        let input = spec.input.get_ref();
        let path_span = input.path.span();
        let path = Path::new(input.path.get_ref());
        let err = |m: String| self.at.error(Some(path_span.clone()), m);
        if !path.exists() {
            return Err(err(format!("input '{}' does not exist", path.display())));
        }
        let absolute = path
            .canonicalize()
            .map_err(|e| err(format!("input '{}': {e}", path.display())))?;
        let files: Vec<PathBuf> = if absolute.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&absolute)
                .map_err(|e| err(format!("input '{}': {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    !p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                })
                .collect();
            files.sort();
            files
        } else {
            vec![absolute.clone()]
        };
        if files.is_empty() {
            return Err(err(format!("input directory '{}' holds no files", path.display())));
        }
        let ext_is = |e: &str| files.iter().all(|f| f.extension().and_then(|x| x.to_str()) == Some(e));
        let format = match &input.format {
            Some(f) => match f.get_ref().as_str() {
                "text" | "csv" | "parquet" => f.get_ref().clone(),
                other => {
                    return Err(self.at.error(
                        Some(f.span()),
                        format!("input format '{other}' is not text, csv or parquet"),
                    ));
                }
            },
            None if ext_is("parquet") => "parquet".into(),
            None if ext_is("csv") => "csv".into(),
            None => "text".into(),
        };
        let schema: Vec<Column> = match format.as_str() {
            "text" => TEXT_COLUMNS
                .iter()
                .map(|(name, ty)| Column::new(*name, *ty, false))
                .collect(),
            other => {
                let file_format = if other == "csv" {
                    skadi_catalog::FileFormat::Csv
                } else {
                    skadi_catalog::FileFormat::Parquet
                };
                let arrow = skadi_catalog::read_schema(file_format, &files[0]).map_err(|e| err(e.to_string()))?;
                arrow
                    .fields()
                    .iter()
                    .map(|f| {
                        ColumnType::from_arrow(f.data_type())
                            .map(|ty| Column::new(f.name(), ty, f.is_nullable()))
                            .map_err(|e| err(format!("{}: column '{}': {e}", files[0].display(), f.name())))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let name = spec
            .job
            .as_ref()
            .and_then(|j| j.name.clone())
            .or_else(|| absolute.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "input".into());
        let file_columns: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let loc = self.at.loc(spec.input.span());
        Ok(self.g.source(&name, &format, &files, &file_columns, schema, &loc))
    }
}
