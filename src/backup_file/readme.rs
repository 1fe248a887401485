//! The backup's README.txt: Vietnamese, then English, in the file itself (whoever opens the zip
//! reads both), so it is not in the interface's catalogue.

use super::Manifest;

pub(super) fn readme(m: &Manifest) -> String {
    let day = crate::domain::Date::in_vietnam(m.created_at_ms);
    let count = crate::domain::format_count_vi;
    format!(
        "BẢN SAO DỮ LIỆU — DÂN VẬN KHÉO\r\n\
         ================================\r\n\
         Tài khoản: {user} ({name}). Ngày tạo: {day}. {docs} tài liệu, {models} mô hình, {photos} ảnh.\r\n\
         \r\n\
         Các tệp trong bản sao:\r\n\
         - models.csv: danh sách mô hình, mở bằng Excel (mỗi dòng một mô hình).\r\n\
         - models.jsonl: toàn bộ nội dung từng mô hình, mỗi dòng một mô hình dạng JSON, để đọc bằng chương trình khác.\r\n\
         - docs/: tài liệu gốc của từng mô hình (định dạng automerge), gồm cả lịch sử thay đổi. Đây là phần ứng dụng dùng khi khôi phục.\r\n\
         - photos/: ảnh minh chứng trong nhật ký hoạt động, tên tệp là mã SHA-256 của ảnh.\r\n\
         - manifest.json: mục lục của bản sao (phiên bản định dạng {version}).\r\n\
         \r\n\
         Cách khôi phục: mở ứng dụng Dân vận khéo trên máy bất kỳ, đăng nhập, vào Cài đặt → Sao lưu, bấm \"Khôi phục từ bản sao\" và chọn tệp zip này (không cần giải nén). \
         Dữ liệu được gộp vào dữ liệu đang có trên máy: không có gì bị ghi đè hay nhân đôi; khôi phục cùng một tệp nhiều lần cũng không tạo thêm gì. \
         Khi có mạng, các mô hình được đồng bộ lên máy chủ như bình thường. Không cần mạng để khôi phục.\r\n\
         \r\n\
         Giữ tệp này cẩn thận: nó chứa toàn bộ dữ liệu trên thiết bị.\r\n\
         \r\n\
         DEVICE BACKUP — DAN VAN KHEO\r\n\
         ============================\r\n\
         Account: {user}. Created: {day}. {docs} documents, {models} models, {photos} photos.\r\n\
         \r\n\
         Files:\r\n\
         - models.csv: the model list, for Excel (one row per model, UTF-8).\r\n\
         - models.jsonl: every model in full, one JSON object per line, for other tools.\r\n\
         - docs/: each model's original document (automerge format) with its whole history; this is what a restore reads.\r\n\
         - photos/: the activity log's photos, each named by its SHA-256.\r\n\
         - manifest.json: the table of contents (format version {version}).\r\n\
         \r\n\
         To restore: open the Dan van kheo app on any device, sign in, go to Cài đặt (Settings) → Sao lưu (Backup), choose \"Khôi phục từ bản sao\" \
         and pick this zip file (do not unzip it). It is merged into what the device holds: nothing is overwritten or duplicated, and restoring the \
         same file again adds nothing. It works offline; the models sync with the server as usual once online.\r\n",
        user = m.username,
        name = m.display_name,
        docs = count(m.documents),
        models = count(m.models),
        photos = count(m.photos.len()),
        version = m.version,
    )
}
