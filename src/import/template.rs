//! The downloadable template: every column the import reads, one example row, and (in the XLSX)
//! a second sheet saying how to write each column. Reading the template back gives a plan with
//! one model and no error (a test holds it to that).

use super::Column;
use crate::export::{Cell, ExportError, Table};

/// The example row, in [`Column::ALL`] order.
const EXAMPLE: [&str; 24] = [
    "Dân vận khéo trong xây dựng nông thôn mới",
    "Xã Bản Bo",
    "Kinh tế",
    "Tập thể",
    "Hội Nông dân xã",
    "2015",
    "Cơ sở",
    "Công nhận",
    "Huyện",
    "123-QĐ/HU",
    "20/12/2015",
    "",
    "",
    "Nhiều hộ còn khó khăn, đường giao thông chưa được cứng hóa.",
    "Vận động nhân dân hiến đất, góp công làm đường.",
    "Họp dân, thống nhất phương án; cán bộ, đảng viên đi đầu.",
    "Các thôn của xã; hộ gia đình trên địa bàn.",
    "Chi bộ, Mặt trận và các đoàn thể; trưởng thôn.",
    "Nhân dân đóng góp ngày công; ngân sách hỗ trợ xi măng.",
    "01/03/2015",
    "30/11/2015",
    "15/12/2015",
    "Đường bê tông: 3,5 km; Hộ hiến đất: 42 hộ",
    "Duy trì hằng năm, nhân rộng ra các xã lân cận.",
];

/// How to write each column (the XLSX's second sheet).
fn guidance(column: Column) -> (&'static str, &'static str) {
    match column {
        Column::Name => ("Bắt buộc", "Tên mô hình như trong hồ sơ đăng ký."),
        Column::Unit => ("Bắt buộc", "Mã đơn vị hoặc tên đơn vị trong cây đơn vị (không phân biệt dấu, hoa thường)."),
        Column::Field => ("Bắt buộc", "Kinh tế; Văn hóa – xã hội; Quốc phòng – an ninh; Xây dựng hệ thống chính trị."),
        Column::OwnerKind => ("Không", "Tập thể (mặc định), Cá nhân hoặc Hộ gia đình."),
        Column::OwnerName => ("Với cá nhân, hộ", "Để trống với tập thể: lấy tên đơn vị."),
        Column::Year => ("Bắt buộc", "Năm đăng ký, từ 2009."),
        Column::Level => ("Không", "Cơ sở, Huyện, Tỉnh hoặc Trung ương (mặc định: cấp của đơn vị)."),
        Column::Status => ("Không", "Đăng ký, Đang thực hiện, Đề nghị công nhận, Trả lại, Công nhận, Không công nhận, Điển hình, Khen thưởng, Dừng."),
        Column::RecognisedLevel => ("Không", "Cấp đã công nhận hoặc khen thưởng: Cơ sở, Huyện, Tỉnh, Trung ương. Chỉ người bình xét từ cấp đó trở lên được nhập."),
        Column::DecisionNumber => ("Không", "Số quyết định công nhận hoặc khen thưởng."),
        Column::DecisionDate => ("Không", "Ngày/tháng/năm, ví dụ 20/12/2015."),
        Column::CommendationForm => ("Không", "Giấy khen, Bằng khen, Kỷ niệm chương…; mô hình phải đã được công nhận."),
        Column::Issuer => ("Không", "Cơ quan ký quyết định khen thưởng."),
        Column::Situation
        | Column::Goals
        | Column::Content
        | Column::Area
        | Column::Forces
        | Column::Resources
        | Column::Sustainability => ("Không", "Nội dung đăng ký (tối đa 10.000 ký tự); có thể bổ sung sau trong ứng dụng."),
        Column::StartDate | Column::EndDate | Column::EvaluationDate => ("Không", "Ngày/tháng/năm."),
        Column::Indicators => ("Không", "Mỗi chỉ tiêu “tên: số đơn vị tính”, cách nhau bằng dấu chấm phẩy."),
    }
}

/// The template as a table: the headers the import reads and the example row.
pub fn table() -> Table {
    let headers: Vec<&str> = Column::ALL.iter().map(|c| c.label()).collect();
    let mut table = Table::new("Mẫu nhập mô hình", "Mẫu nhập danh sách mô hình “Dân vận khéo” (mỗi dòng một mô hình)", &headers);
    table.push(EXAMPLE.iter().map(|v| Cell::from(*v)).collect());
    table
}

/// The template as an XLSX workbook: the table, then how to write each column.
pub fn xlsx() -> Result<Vec<u8>, ExportError> {
    let mut help = Table::new("Hướng dẫn", "Cách ghi từng cột (cột có thể theo thứ tự bất kỳ; tiêu đề tiếng Việt hoặc tiếng Anh)", &["Cột", "Bắt buộc", "Cách ghi"]);
    for column in Column::ALL {
        let (required, how) = guidance(column);
        help.push(vec![Cell::from(column.label()), Cell::from(required), Cell::from(how)]);
    }
    crate::export::xlsx(&[table(), help])
}

/// The template as CSV (UTF-8 with BOM, as the app's exports).
pub fn csv() -> Vec<u8> {
    crate::export::csv(&table())
}
